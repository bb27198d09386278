/**
 * The typed client for the Zilliz Cloud stage and volume APIs. Each call is
 * written once over a {@link Dialect} (base path, name field, list field);
 * the named methods (`createStage`, `createVolume`, ...) only pick the
 * dialect and the answer's schema. Volumes add `type`, `storageIntegrationId`
 * and `path` to create, a type filter to list, and describe.
 */
import { z } from "zod";
import { isAlreadyExists, isNotFound } from "./api-errors";
import { Dialect, dialectOf, STAGE_DIALECT, StorageRef, storageName, VOLUME_DIALECT } from "./dialect";
import { RestClient, RestClientOptions } from "./rest";
import { applyDataSchema, CreateStageRequest, listStagesDataSchema, stageRefSchema, StagePage, StageRef, UploadTarget } from "./schemas";
import {
  CreateVolumeRequest,
  listVolumesDataSchema,
  VolumeDescription,
  volumeDescriptionSchema,
  VolumePage,
  VolumeRef,
  volumeRefSchema,
  VolumeType,
} from "./volume-schemas";

export type ZillizClientOptions = RestClientOptions;

/** Page query of a list call; `type` only for volumes. */
interface PageQuery {
  projectId: string;
  currentPage?: number;
  pageSize?: number;
  type?: VolumeType;
}

/** How errors name a call: `create` for stages (as they always did), `create volume` for volumes. */
function callName(d: Dialect, verb: string): string {
  return d === STAGE_DIALECT ? verb : `${verb} ${d.noun}`;
}

export class ZillizClient extends RestClient {
  // ---- one implementation per call, over the dialect ----

  /** Creates a stage or a volume. A retried create that finds its own earlier attempt's result counts as done. */
  private async create<T>(d: Dialect, body: Record<string, unknown>, data: z.ZodType<T>): Promise<T> {
    let retried = false;
    try {
      return await this.call({ call: callName(d, "create"), method: "POST", path: `${d.basePath}/create`, body, data, onRetry: () => (retried = true) });
    } catch (err) {
      // A first attempt may have created it before its answer was lost; the
      // retry then sees "already exists" for something that is ours.
      if (retried && isAlreadyExists(err)) return data.parse({ [d.nameField]: body[d.nameField] });
      throw err;
    }
  }

  private list<T>(d: Dialect, query: PageQuery, data: z.ZodType<T>): Promise<T> {
    return this.call({ call: callName(d, "list"), method: "GET", path: d.basePath, query: { ...query }, data });
  }

  /**
   * Every item of a list, page after page, read from the dialect's list
   * field (the SDKs read one page; a project may hold more).
   */
  private async *all<K extends Dialect["listField"], T>(
    d: Dialect & { listField: K },
    query: Omit<PageQuery, "currentPage">,
    data: z.ZodType<{ count: number } & Record<K, T[]>>,
  ): AsyncIterableIterator<T> {
    let seen = 0;
    for (let currentPage = 1; ; currentPage++) {
      const page = await this.list(d, { projectId: query.projectId, type: query.type, currentPage, pageSize: query.pageSize ?? 100 }, data);
      const items = page[d.listField];
      yield* items;
      seen += items.length;
      if (items.length === 0 || seen >= page.count) return;
    }
  }

  /** Deletes one; one that does not exist is reported with `existed: false`, not thrown. */
  private async remove(d: Dialect, name: string): Promise<boolean> {
    try {
      await this.call({ call: callName(d, "delete"), method: "DELETE", path: `${d.basePath}/${encodeURIComponent(name)}`, data: z.unknown() });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  // ---- stages ----

  createStage(req: CreateStageRequest): Promise<StageRef> {
    return this.create(STAGE_DIALECT, { ...req }, stageRefSchema);
  }

  /** One page of the project's stages. */
  listStages(req: Omit<PageQuery, "type">): Promise<StagePage> {
    return this.list(STAGE_DIALECT, req, listStagesDataSchema);
  }

  /** Every stage of the project, page after page. */
  stages(req: { projectId: string; pageSize?: number }): AsyncIterableIterator<StageRef> {
    return this.all(STAGE_DIALECT, req, listStagesDataSchema);
  }

  /** The stage of that name (stages have no describe call: the list is searched). */
  async findStage(projectId: string, stageName: string): Promise<StageRef | undefined> {
    for await (const stage of this.stages({ projectId })) if (stage.stageName === stageName) return stage;
    return undefined;
  }

  async deleteStage(stageName: string): Promise<{ stageName: string; existed: boolean }> {
    return { stageName, existed: await this.remove(STAGE_DIALECT, stageName) };
  }

  // ---- volumes ----

  /** Creates a volume: MANAGED (the default) or EXTERNAL with `storageIntegrationId` and a bucket `path` ending in "/". */
  createVolume(req: CreateVolumeRequest): Promise<VolumeRef> {
    return this.create(VOLUME_DIALECT, { ...req }, volumeRefSchema);
  }

  /** One page of the project's volumes, of one type when `type` is given. */
  listVolumes(req: PageQuery): Promise<VolumePage> {
    return this.list(VOLUME_DIALECT, req, listVolumesDataSchema);
  }

  /** Every volume of the project (of one type when given), page after page. */
  volumes(req: { projectId: string; type?: VolumeType; pageSize?: number }): AsyncIterableIterator<VolumeDescription> {
    return this.all(VOLUME_DIALECT, req, listVolumesDataSchema);
  }

  /** The volume's settings, status and creation time; undefined when there is no such volume. */
  async describeVolume(volumeName: string): Promise<VolumeDescription | undefined> {
    try {
      return await this.call({
        call: callName(VOLUME_DIALECT, "describe"),
        method: "GET",
        path: `${VOLUME_DIALECT.basePath}/${encodeURIComponent(volumeName)}`,
        data: volumeDescriptionSchema,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sets the volume's description ("" clears it), the one setting that changes in place; returns the volume as described after. */
  updateVolume(volumeName: string, description: string): Promise<VolumeDescription> {
    return this.call({
      call: callName(VOLUME_DIALECT, "update"),
      method: "PATCH",
      path: `${VOLUME_DIALECT.basePath}/${encodeURIComponent(volumeName)}`,
      body: { description },
      data: volumeDescriptionSchema,
    });
  }

  async deleteVolume(volumeName: string): Promise<{ volumeName: string; existed: boolean }> {
    return { volumeName, existed: await this.remove(VOLUME_DIALECT, volumeName) };
  }

  // ---- both ----

  /**
   * Temporary credentials and the object-store location for uploads into
   * `path` of a stage (`{stageName, path}`) or a managed volume
   * (`{volumeName, path}`).
   */
  applyUploadTarget(req: StorageRef): Promise<UploadTarget> {
    const d = dialectOf(req);
    return this.call({
      call: callName(d, "apply"),
      method: "POST",
      path: `${d.basePath}/apply`,
      body: { [d.nameField]: storageName(req), path: req.path },
      data: applyDataSchema,
    });
  }
}

/** @deprecated The same client under its first name; it speaks volumes too now. */
export const StageClient = ZillizClient;
/** @deprecated Use {@link ZillizClient}. */
export type StageClient = ZillizClient;
export type StageClientOptions = ZillizClientOptions;
