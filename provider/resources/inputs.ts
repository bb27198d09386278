/**
 * Resource inputs as zod schemas, and the translation of zod issues into
 * Pulumi check failures that name the property and the rule.
 */
import { z } from "zod";
import { stageNameSchema } from "../client/schemas";
import { VOLUME_TYPES, volumeNameSchema } from "../client/volume-schemas";
import { connectionInputSchema } from "./connection";

/**
 * What the engine sends for a value it does not know yet (during preview).
 * Such a value is neither validated nor used.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

const projectIdSchema = z.string().min(1, "must be a Zilliz Cloud project ID such as proj-xxxxxxxx");
const regionIdSchema = z.string().min(1, "must be a region ID such as aws-us-west-2");
/** Take over an existing stage or volume of that name when its settings match (Pulumi cannot import dynamic resources). */
const adoptSchema = z.boolean().optional();

export const stageInputsSchema = z.object({
  projectId: projectIdSchema,
  regionId: regionIdSchema,
  stageName: stageNameSchema,
  adopt: adoptSchema,
  connection: connectionInputSchema.optional(),
});
export type StageInputs = z.infer<typeof stageInputsSchema>;

export const volumeInputsSchema = z.object({
  projectId: projectIdSchema,
  regionId: regionIdSchema,
  volumeName: volumeNameSchema,
  type: z.enum(VOLUME_TYPES, { error: (issue) => `must be MANAGED or EXTERNAL, got ${JSON.stringify(issue.input)}` }).optional(),
  storageIntegrationId: z.string().min(1, "must be the ID of a storage integration").optional(),
  path: z.string().min(1, 'must be a bucket path ending in "/"').optional(),
  adopt: adoptSchema,
  connection: connectionInputSchema.optional(),
});
export type VolumeInputs = z.infer<typeof volumeInputsSchema>;

/** The inputs of StagedFiles and VolumeFiles besides the name of where the files go. */
const filesInputFields = {
  source: z.string().min(1, "must be a path to a file or a directory"),
  path: z.string().optional(),
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  deleteRemoved: z.boolean().optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  forceRehash: z.boolean().optional(),
  followSymlinks: z.enum(["inside", "any"]).optional(),
  connection: connectionInputSchema.optional(),
  /** Overwrite objects another resource owns at this path (refused otherwise). */
  takeOver: z.boolean().optional(),
  /** The resource's URN, passed by the resource class: written with each object, for messages. */
  ownerUrn: z.string().optional(),
};

export const stagedFilesInputsSchema = z.object({ stageName: stageNameSchema, ...filesInputFields });
export type StagedFilesInputs = z.infer<typeof stagedFilesInputsSchema>;

export const volumeFilesInputsSchema = z.object({ volumeName: volumeNameSchema, ...filesInputFields });
export type VolumeFilesInputs = z.infer<typeof volumeFilesInputsSchema>;

export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * Validates each known property on its own, so that one unknown value during
 * preview does not hide a mistake in another, and so every failure names the
 * property it belongs to.
 */
export function checkProperties(schema: z.ZodObject, news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [property, fieldSchema] of Object.entries(schema.shape)) {
    const value = news[property];
    if (isUnknown(value)) continue;
    const result = (fieldSchema as z.ZodType).safeParse(value);
    if (!result.success) {
      // One failure per property: the first rule broken is the one to fix first.
      const seen = new Set<string>();
      for (const issue of result.error.issues) {
        const where = [property, ...issue.path.map(String)].join(".");
        if (seen.has(where)) continue;
        seen.add(where);
        failures.push({ property: where, reason: `${where} ${describeIssue(issue, value)}` });
      }
    }
  }
  return failures;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === "invalid_type") {
    return value === undefined ? "is required" : `must be a ${issue.expected}`;
  }
  return issue.message;
}
