/**
 * Stages and volumes as two dialects of one API: what differs between
 * `/v2/stages` and `/v2/volumes` (field names, what a list shows, which
 * requests a create accepts), so the control plane is written once.
 */
import { z } from "zod";
import { createStageRequestSchema, stageNameSchema } from "../client/schemas";
import { VOLUME_TYPES, VolumeRecord, VolumeType } from "./store";

export const volumeTypeSchema = z.enum(VOLUME_TYPES);

/** `POST /v2/volumes/create` as the docs and pymilvus send it; `type` is checked by hand for a clearer message. */
export const createVolumeRequestSchema = z.object({
  projectId: z.string().min(1),
  regionId: z.string().min(1),
  volumeName: stageNameSchema,
  type: z.string().optional(),
  storageIntegrationId: z.string().optional(),
  path: z.string().optional(),
});

/** A create request of either dialect, in volume terms. */
export interface VolumeRequest {
  projectId: string;
  regionId: string;
  volumeName: string;
  type?: string;
  storageIntegrationId?: string;
  path?: string;
}

/** The volume's type (MANAGED when none is given), or why the service would refuse these settings. */
export function checkVolumeSettings(req: VolumeRequest): { type: VolumeType } | { refused: string } {
  const refused = refusal(req);
  return refused ? { refused } : { type: (req.type as VolumeType | undefined) ?? "MANAGED" };
}

function refusal(req: VolumeRequest): string | undefined {
  if (req.type !== undefined && !volumeTypeSchema.safeParse(req.type).success) {
    return `Invalid request: type must be MANAGED or EXTERNAL, got ${JSON.stringify(req.type)}`;
  }
  const type = req.type ?? "MANAGED";
  if (type === "EXTERNAL" && !req.storageIntegrationId) {
    return "Invalid request: storageIntegrationId is required for an EXTERNAL volume (the storage integration that reaches your bucket)";
  }
  if (type === "MANAGED" && req.path) {
    return "Invalid request: path is only for EXTERNAL volumes; a MANAGED volume's files are uploaded through apply";
  }
  if (type === "EXTERNAL" && req.path && !req.path.endsWith("/")) {
    return `Invalid request: path must end in "/" (a directory of your bucket), got ${JSON.stringify(req.path)}`;
  }
  return undefined;
}

/** What describe (and each list item) shows of a volume; absent settings are left out. */
export function volumeView(v: VolumeRecord) {
  return {
    volumeName: v.volumeName,
    type: v.type,
    regionId: v.regionId,
    ...(v.storageIntegrationId !== undefined ? { storageIntegrationId: v.storageIntegrationId } : {}),
    ...(v.path !== undefined ? { path: v.path } : {}),
    // The emulator's choice: the service's status values are not documented.
    status: "AVAILABLE",
    createTime: new Date(v.createdAt).toISOString(),
  };
}

export interface Dialect {
  basePath: "/v2/stages" | "/v2/volumes";
  /** "stage" or "volume", for messages. */
  noun: string;
  nameField: "stageName" | "volumeName";
  listField: "stages" | "volumes";
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
    basePath: "/v2/stages",
    noun: "stage",
    nameField: "stageName",
    listField: "stages",
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
    basePath: "/v2/volumes",
    noun: "volume",
    nameField: "volumeName",
    listField: "volumes",
    keyRoot: "volumes",
    createSchema: createVolumeRequestSchema,
    toVolumeRequest: (body) => body as VolumeRequest,
    sees: () => true,
    listItem: volumeView,
    describes: true,
    filtersByType: true,
  },
};
