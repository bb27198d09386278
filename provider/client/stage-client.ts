/**
 * A typed client for the Zilliz Cloud stage API: create, list, delete and
 * apply (temporary upload credentials). Each call is a `RestClient.call`
 * with its path and the zod schema of its answer.
 */
import { z } from "zod";
import { isAlreadyExists, isNotFound } from "./api-errors";
import { RestClient, RestClientOptions } from "./rest";
import {
  applyDataSchema,
  ApplyRequest,
  CreateStageRequest,
  listStagesDataSchema,
  stageRefSchema,
  StagePage,
  StageRef,
  StageUploadTarget,
} from "./schemas";

export type StageClientOptions = RestClientOptions;

export class StageClient extends RestClient {
  /** Creates a stage. A retried create that finds its own stage already there counts as done. */
  async createStage(req: CreateStageRequest): Promise<StageRef> {
    let retried = false;
    try {
      return await this.call({
        call: "create",
        method: "POST",
        path: "/v2/stages/create",
        body: req,
        data: stageRefSchema,
        onRetry: () => (retried = true),
      });
    } catch (err) {
      // A first attempt may have created it before its answer was lost; the
      // retry then sees "already exists" for a stage that is ours.
      if (retried && isAlreadyExists(err)) return { stageName: req.stageName };
      throw err;
    }
  }

  /** One page of the project's stages. */
  listStages(req: { projectId: string; currentPage?: number; pageSize?: number }): Promise<StagePage> {
    return this.call({ call: "list", method: "GET", path: "/v2/stages", query: req, data: listStagesDataSchema });
  }

  /** Every stage of the project, page after page. */
  async *stages(req: { projectId: string; pageSize?: number }): AsyncIterableIterator<StageRef> {
    let seen = 0;
    for (let currentPage = 1; ; currentPage++) {
      const page = await this.listStages({ projectId: req.projectId, currentPage, pageSize: req.pageSize ?? 100 });
      for (const stage of page.stages) yield stage;
      seen += page.stages.length;
      if (page.stages.length === 0 || seen >= page.count) return;
    }
  }

  async findStage(projectId: string, stageName: string): Promise<StageRef | undefined> {
    for await (const stage of this.stages({ projectId })) {
      if (stage.stageName === stageName) return stage;
    }
    return undefined;
  }

  /** Deletes a stage; one that does not exist is reported with `existed: false`, not thrown. */
  async deleteStage(stageName: string): Promise<{ stageName: string; existed: boolean }> {
    try {
      await this.call({ call: "delete", method: "DELETE", path: `/v2/stages/${encodeURIComponent(stageName)}`, data: z.unknown() });
      return { stageName, existed: true };
    } catch (err) {
      if (isNotFound(err)) return { stageName, existed: false };
      throw err;
    }
  }

  /** Temporary credentials and the object-store location for uploads into `path` of a stage. */
  applyUploadTarget(req: ApplyRequest): Promise<StageUploadTarget> {
    return this.call({ call: "apply", method: "POST", path: "/v2/stages/apply", body: req, data: applyDataSchema });
  }
}
