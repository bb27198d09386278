/**
 * The wire format of the Zilliz Cloud volume API (`/v2/volumes/*`), as zod
 * schemas: the client parses answers with them and the emulator parses
 * requests with them, so the two cannot drift apart. Read from pymilvus
 * `volume_restful.py` / `volume_manager.py` (v2.6.5 on) and the volume docs.
 */
import { z } from "zod";
import { projectIdSchema, stageNameSchema } from "./schemas";

/** A MANAGED volume is hosted by Zilliz Cloud (what a stage was); an EXTERNAL one points at a path in your own bucket. */
export const VOLUME_TYPES = ["MANAGED", "EXTERNAL"] as const;
export const volumeTypeSchema = z.enum(VOLUME_TYPES);
export type VolumeType = z.infer<typeof volumeTypeSchema>;

/** The only setting of a volume that can change after creation (`PATCH /v2/volumes/{name}`). */
export const VOLUME_DESCRIPTION_MAX_LENGTH = 255;
export const volumeDescriptionTextSchema = z
  .string()
  .max(VOLUME_DESCRIPTION_MAX_LENGTH, `must be at most ${VOLUME_DESCRIPTION_MAX_LENGTH} characters`);

/** `PATCH /v2/volumes/{name}`: only the description changes; "" clears it. */
export const updateVolumeRequestSchema = z.object({ description: volumeDescriptionTextSchema });

/**
 * A volume in this status takes no new operation: the organization is
 * frozen (unpaid invoices), and its managed volumes are deleted for good
 * later. Status is otherwise an open string, passed on as the service says it.
 */
export function isUnusableVolumeStatus(status: string | undefined): boolean {
  return status !== undefined && status.toLowerCase() === "frozen";
}

/** Volume names follow the stage naming rule. */
export const volumeNameSchema = stageNameSchema;

/**
 * `POST /v2/volumes/create` as the docs and pymilvus send it. `type` is a
 * plain string here so that the service's (and the emulator's) refusal of an
 * unknown type can say which types there are; {@link volumeSettingsProblem}
 * holds the rules.
 */
export const createVolumeRequestSchema = z.object({
  projectId: projectIdSchema,
  regionId: z.string().min(1),
  volumeName: volumeNameSchema,
  type: z.string().optional(),
  storageIntegrationId: z.string().optional(),
  path: z.string().optional(),
  description: volumeDescriptionTextSchema.optional(),
});
export type CreateVolumeRequest = z.infer<typeof createVolumeRequestSchema>;

/** The settings a create request carries, as far as the rules between them go. */
export interface VolumeSettings {
  type?: string;
  storageIntegrationId?: string;
  path?: string;
}

/**
 * Why these settings cannot make a volume, as `{field, reason}` (the reason
 * says the fix), or undefined when they can. One rule set for the client's
 * inputs check and the emulator's refusal.
 */
export function volumeSettingsProblem(s: VolumeSettings): { field: keyof VolumeSettings; reason: string } | undefined {
  if (s.type !== undefined && !volumeTypeSchema.safeParse(s.type).success) {
    return { field: "type", reason: `must be MANAGED or EXTERNAL, got ${JSON.stringify(s.type)}` };
  }
  const type = s.type ?? "MANAGED";
  if (type === "EXTERNAL" && !s.storageIntegrationId) {
    return { field: "storageIntegrationId", reason: "is required for an EXTERNAL volume: give the storage integration that reaches your bucket" };
  }
  if (type === "MANAGED" && s.storageIntegrationId) {
    return {
      field: "storageIntegrationId",
      reason: 'is only for EXTERNAL volumes (a MANAGED volume is stored by Zilliz Cloud); remove it, or set type: "EXTERNAL"',
    };
  }
  if (type === "MANAGED" && s.path) {
    return { field: "path", reason: 'is only for EXTERNAL volumes (a MANAGED volume\'s files are uploaded through apply); remove it, or set type: "EXTERNAL"' };
  }
  if (type === "EXTERNAL" && s.path && !s.path.endsWith("/")) {
    return { field: "path", reason: `must end in "/" (a directory of your bucket), got ${JSON.stringify(s.path)}; write ${JSON.stringify(s.path + "/")}` };
  }
  return undefined;
}

export const volumeRefSchema = z.object({ volumeName: z.string() });
export type VolumeRef = z.infer<typeof volumeRefSchema>;

/** `GET /v2/volumes/{name}`, and each item of a list. Settings a volume lacks are absent (or empty). */
export const volumeDescriptionSchema = z
  .object({
    volumeName: z.string(),
    type: z.string().optional(),
    regionId: z.string().optional(),
    storageIntegrationId: z.string().nullish(),
    path: z.string().nullish(),
    status: z.string().optional(),
    createTime: z.string().optional(),
    description: z.string().nullish(),
  })
  .passthrough();
export type VolumeDescription = z.infer<typeof volumeDescriptionSchema>;

export const listVolumesDataSchema = z.object({
  count: z.number().int().nonnegative(),
  currentPage: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  volumes: z.array(volumeDescriptionSchema),
});
export type VolumePage = z.infer<typeof listVolumesDataSchema>;
