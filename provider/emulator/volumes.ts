/**
 * Stages and volumes as two dialects of one API: what differs between
 * `/v2/stages` and `/v2/volumes` (field names, what a list shows, which
 * requests a create accepts), so the control plane is written once.
 */
import { z } from "zod";
import { STAGE_DIALECT, VOLUME_DIALECT, Dialect as WireDialect } from "../client/dialect";
import { createStageRequestSchema } from "../client/schemas";
import { createVolumeRequestSchema, CreateVolumeRequest, volumeSettingsProblem } from "../client/volume-schemas";
import { VolumeRecord, VolumeType } from "./store";

/** A create request of either dialect, in volume terms. */
export type VolumeRequest = CreateVolumeRequest;

/** The volume's type (MANAGED when none is given), or why the service would refuse these settings. */
export function checkVolumeSettings(req: VolumeRequest): { type: VolumeType } | { refused: string } {
  const problem = volumeSettingsProblem(req);
  return problem ? { refused: `Invalid request: ${problem.field} ${problem.reason}` } : { type: (req.type as VolumeType | undefined) ?? "MANAGED" };
}

/** What describe (and each list item) shows of a volume; absent settings are left out. */
export function volumeView(v: VolumeRecord) {
  return {
    volumeName: v.volumeName,
    type: v.type,
    regionId: v.regionId,
    ...(v.storageIntegrationId !== undefined ? { storageIntegrationId: v.storageIntegrationId } : {}),
    ...(v.path !== undefined ? { path: v.path } : {}),
    // The FAQ's word for a usable volume; an open string (the admin API sets others, e.g. Frozen).
    status: v.status ?? "Available",
    createTime: new Date(v.createdAt).toISOString(),
    ...(v.description !== undefined ? { description: v.description } : {}),
  };
}

/** The wire dialect (base path, field names) and what the emulator decides per dialect. */
export interface Dialect extends WireDialect {
  /** Where a managed volume created through this API keeps its objects. */
  keyRoot: string;
  createSchema: z.ZodType<unknown>;
  toVolumeRequest: (body: unknown) => VolumeRequest;
  /** Which records this API can see: stages are the managed volumes. */
  sees: (v: VolumeRecord) => boolean;
  listItem: (v: VolumeRecord) => object;
  describes: boolean;
  filtersByType: boolean;
}

export const dialects: Record<"stages" | "volumes", Dialect> = {
  stages: {
    ...STAGE_DIALECT,
    keyRoot: "stages",
    createSchema: createStageRequestSchema,
    toVolumeRequest: (body) => {
      const { projectId, regionId, stageName } = body as z.infer<typeof createStageRequestSchema>;
      return { projectId, regionId, volumeName: stageName };
    },
    sees: (v) => v.type === "MANAGED",
    listItem: (v) => ({ stageName: v.volumeName }),
    describes: false,
    filtersByType: false,
  },
  volumes: {
    ...VOLUME_DIALECT,
    keyRoot: "volumes",
    createSchema: createVolumeRequestSchema,
    toVolumeRequest: (body) => body as VolumeRequest,
    sees: () => true,
    listItem: volumeView,
    describes: true,
    filtersByType: true,
  },
};
