/**
 * Resource inputs as zod schemas, and the translation of zod issues into
 * Pulumi check failures that name the property and the rule.
 */
import { z } from "zod";
import { projectIdSchema, stageNameSchema } from "../client/schemas";
import { VOLUME_TYPES, volumeDescriptionTextSchema, volumeNameSchema } from "../client/volume-schemas";
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
  description: volumeDescriptionTextSchema.optional(),
  adopt: adoptSchema,
  connection: connectionInputSchema.optional(),
});
export type VolumeInputs = z.infer<typeof volumeInputsSchema>;

/** The inputs of StagedFiles and VolumeFiles besides the name of where the files go. */
const filesInputFields = {
  source: z.string().min(1, "must be a path to a file or a directory, or an s3:// or gs:// URL of a folder"),
  path: z.string().optional(),
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  deleteRemoved: z.boolean().optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  forceRehash: z.boolean().optional(),
  followSymlinks: z.enum(["inside", "any"]).optional(),
  allowEmpty: z.boolean().optional(),
  /** For an s3:// or gs:// source: another endpoint, path-style addressing, the signing region. */
  sourceEndpoint: z.string().min(1, "must be the URL of an S3-compatible endpoint, e.g. https://s3.example.com").optional(),
  sourcePathStyle: z.boolean().optional(),
  sourceRegion: z.string().min(1, "must be a region such as us-east-1").optional(),
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

/**
 * Keeps the first failure of each property: the first rule broken is the one
 * to fix first, and a second message about the same property (a type error
 * and a path rule, a field rule and a cross-field rule) only adds noise.
 */
export function onePerProperty(failures: readonly CheckFailure[]): CheckFailure[] {
  const seen = new Set<string>();
  return failures.filter((f) => !seen.has(f.property) && seen.add(f.property));
}

/** What every resource's check receives besides the program's inputs: the serialized provider. */
const ENGINE_KEYS = ["__provider"];

/**
 * Refuses input names the resource does not know: a typo such as
 * `deleteRemove` in a YAML or JavaScript program would otherwise be
 * dropped without a word and the default used. `internal` are the keys the
 * resource class itself passes (outputs seeded as undefined, keys check
 * derives); keys starting with "__" are the engine's and the provider's own.
 */
export function unknownInputFailures(
  resource: string,
  schema: z.ZodObject,
  news: Record<string, unknown>,
  internal: readonly string[] = [],
): CheckFailure[] {
  const inputs = Object.keys(schema.shape);
  const known = new Set([...inputs, ...internal, ...ENGINE_KEYS]);
  const failures: CheckFailure[] = [];
  for (const name of Object.keys(news)) {
    if (known.has(name) || name.startsWith("__")) continue;
    const nearest = nearestName(name, inputs);
    const fix = nearest ? `did you mean ${nearest}?` : `the inputs of ${resource} are ${inputs.join(", ")}`;
    failures.push({ property: name, reason: `${name} is not an input of ${resource}; ${fix}` });
  }
  return failures;
}

/** The candidate closest to `name` (case-insensitive edit distance), when it is close enough to be the likely intent. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  // A third of the name (at least 2 edits): close enough for a typo, not for an unrelated word.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
