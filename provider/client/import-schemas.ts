/**
 * The wire format of Zilliz Cloud import jobs (`/v2/vectordb/jobs/import/*`),
 * as zod schemas: what moves staged files into a collection. The client
 * parses answers with these and the emulator parses requests with them, so
 * the two cannot drift apart.
 *
 * Read from the SDKs that drive the same calls: pymilvus
 * `bulk_writer/bulk_import.py` (`stageName` up to v2.6.4, `volumeName` from
 * v2.6.5, `projectId` + `regionId` and the `DB-Name` header later) and
 * milvus-sdk-java's `VolumeImportRequest`, `CloudDescribeImportRequest`,
 * `CloudListImportJobsRequest` and their responses. The SDKs send every
 * field, unset ones as `""` (Java adds `apiKey` and `options` to the body),
 * so an empty string means "not given" and unknown fields are ignored.
 */
import { z } from "zod";

/** Where each call lives. `describe` is what the SDKs call; `getProgress` is the REST reference's name for the same call. */
export const IMPORT_JOB_PATHS = {
  create: "/v2/vectordb/jobs/import/create",
  getProgress: "/v2/vectordb/jobs/import/getProgress",
  /** The Node SDK's name for progress. */
  getProgressSnake: "/v2/vectordb/jobs/import/get_progress",
  describe: "/v2/vectordb/jobs/import/describe",
  list: "/v2/vectordb/jobs/import/list",
} as const;

/** The header newer SDKs carry the database in (older ones send `dbName` in the body). */
export const DB_NAME_HEADER = "DB-Name";

export const IMPORT_JOB_STATES = ["Pending", "Importing", "Completed", "Failed"] as const;
export const importJobStateSchema = z.enum(IMPORT_JOB_STATES);
export type ImportJobState = z.infer<typeof importJobStateSchema>;

/** A string field the SDKs send as "" (or null) when unset: absent in the parsed value. */
const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v ? v : undefined));

/** A count the service may send as a number or a numeric string. */
const wireCount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/**
 * Which deployment a call addresses: a cluster by `clusterId`, or a project
 * database by `projectId` + `regionId` (newer SDKs), never both.
 */
const targetFields = {
  clusterId: optionalText,
  projectId: optionalText,
  regionId: optionalText,
};

interface TargetFields {
  clusterId?: string;
  projectId?: string;
  regionId?: string;
}

function checkTarget(value: TargetFields, ctx: z.RefinementCtx): void {
  const { clusterId, projectId, regionId } = value;
  if (clusterId && (projectId || regionId)) {
    ctx.addIssue({
      code: "custom",
      path: [projectId ? "projectId" : "regionId"],
      message: "must not be given together with clusterId: address a cluster by clusterId, or a project database by projectId and regionId",
    });
  } else if (!clusterId && !projectId && !regionId) {
    ctx.addIssue({ code: "custom", path: ["clusterId"], message: "is required (or projectId and regionId for a project database)" });
  } else if (!clusterId && !(projectId && regionId)) {
    ctx.addIssue({ code: "custom", path: [projectId ? "regionId" : "projectId"], message: "is required together with " + (projectId ? "projectId" : "regionId") });
  }
}

/** A path inside the stage or volume: relative, POSIX, no `..`; a trailing `/` names a folder. */
export const dataPathSchema = z
  .string()
  .min(1, "must not be empty")
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), 'must be a relative POSIX path without ".."');

/**
 * Why one inner list of `dataPaths` cannot be one import unit, naming the
 * entry, or undefined. A unit is one JSON or Parquet file, one folder, or
 * the `.npy` files of one set of rows: the service refuses several Parquet
 * files in one list (code 2100). Read strictly (the stricter choice where
 * the docs only give the Parquet case): a list of more than one entry must
 * be `.npy` files only.
 */
export function batchProblem(paths: readonly string[]): string | undefined {
  if (paths.length < 2) return undefined;
  const other = paths.find((p) => !/\.npy$/i.test(p));
  if (other === undefined) return undefined;
  return (
    `holds ${JSON.stringify(other)} among ${paths.length} paths: an inner list is one JSON or Parquet file, one folder, ` +
    "or the .npy files of one set of rows; put each file in its own list, e.g. [[\"a.parquet\"], [\"b.parquet\"]]"
  );
}

/**
 * An object in the user's own bucket, as the import call takes it: an
 * `s3://` or `gs://` URL, or an `https://` one (Azure Blob, GCS's or
 * S3's HTTP form), naming a key below the bucket (a folder ends in "/").
 * Plain `http://` only on loopback: nothing else would read it unencrypted.
 */
export const objectUrlSchema = z
  .string()
  .min(1, "must not be empty")
  .refine(
    (u) => /^(s3|gs|https):\/\/[^/\s]+\/\S+$/i.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/\S+$/i.test(u),
    'must be an object URL with a key, e.g. "s3://bucket/data/1.parquet" or "s3://bucket/data/" (s3://, gs:// or https://; http:// only on 127.0.0.1 or localhost)',
  );

/** Batches of paths or object URLs: one list per import unit. */
const batches = <T extends z.ZodType<string>>(entry: T) => z.array(z.array(entry).min(1, "each batch must name at least one path"));

export const createImportJobRequestSchema = z
  .object({
    ...targetFields,
    /** The database; the SDKs also send it as the `DB-Name` header. Default: `default`. */
    dbName: optionalText,
    collectionName: z.string().min(1, "must not be empty"),
    partitionName: optionalText,
    /** Volumes (pymilvus v2.6.5 on). */
    volumeName: optionalText,
    /** Stages (up to pymilvus v2.6.4). */
    stageName: optionalText,
    /** Batches of paths: one JSON or Parquet file, a set of NumPy files (one per field), or a folder ending in `/`. */
    dataPaths: batches(dataPathSchema).min(1, "must name at least one batch of paths").nullish(),
    /**
     * The user's own bucket instead of a volume: batches of object URLs, by
     * the same rules as dataPaths, read with `accessKey`/`secretKey` (and
     * `token` for short-term keys). pymilvus sends every field, unset ones
     * as "" or null.
     */
    objectUrls: batches(objectUrlSchema).min(1, "must name at least one batch of object URLs").nullish(),
    /** One object URL: pymilvus's older form ("use object_urls instead"), read as `[[objectUrl]]`. */
    objectUrl: optionalText.pipe(objectUrlSchema.optional()),
    accessKey: optionalText,
    secretKey: optionalText,
    token: optionalText,
  })
  .superRefine((value, ctx) => {
    checkTarget(value, ctx);
    const issue = (field: string, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
    const objects = Boolean(value.objectUrls?.length || value.objectUrl);
    const sources = [value.volumeName && "volumeName", value.stageName && "stageName", objects && (value.objectUrls?.length ? "objectUrls" : "objectUrl")].filter(Boolean);
    if (sources.length > 1) {
      issue(sources[1] as string, `must not be given together with ${sources[0] as string}: import from a volume, a stage or object URLs, one of them`);
    } else if (sources.length === 0) {
      issue("volumeName", "is required (or stageName for a stage, or objectUrls for the user's own bucket)");
    } else if (objects) {
      if (value.objectUrls?.length && value.objectUrl) issue("objectUrl", "must not be given together with objectUrls");
      if (value.dataPaths?.length) issue("dataPaths", "must not be given together with objectUrls (they name the objects themselves)");
      if (!value.accessKey || !value.secretKey) issue(value.accessKey ? "secretKey" : "accessKey", "is required with objectUrls (the keys that read the bucket)");
    } else if (!value.dataPaths?.length) {
      issue("dataPaths", "is required with volumeName or stageName");
    }
  });
export type CreateImportJobRequest = z.infer<typeof createImportJobRequestSchema>;

/** Newer answers say `jobId`, older servers `jobID`: either is read, as `jobId`. */
const withJobId = (v: unknown) =>
  v !== null && typeof v === "object" && !("jobId" in v) && "jobID" in v ? { ...v, jobId: v.jobID } : v;

export const createImportJobDataSchema = z.preprocess(withJobId, z.object({ jobId: z.string().min(1) }));
export type CreateImportJobData = z.infer<typeof createImportJobDataSchema>;

export const getImportProgressRequestSchema = z
  .object({ ...targetFields, jobId: z.string().min(1, "must not be empty") })
  .superRefine(checkTarget);
export type GetImportProgressRequest = z.infer<typeof getImportProgressRequestSchema>;

/** What a job and each of its files report alike. */
const progressFields = {
  state: importJobStateSchema,
  /** 0-100; 100 only once Completed. */
  progress: wireCount,
  importedRows: wireCount.optional(),
  totalRows: wireCount.optional(),
  /** Bytes. */
  fileSize: wireCount.optional(),
  /** Empty until Completed or Failed. */
  completeTime: z.string().optional(),
  /** Why it failed; empty otherwise. */
  reason: z.string().optional(),
};

/**
 * One file of a job. The Go SDK reads the row counts, the Java SDK reads
 * `reason`: both are optional here, and the emulator sends all of them.
 */
export const importFileProgressSchema = z.object({ fileName: z.string(), ...progressFields });
export type ImportFileProgress = z.infer<typeof importFileProgressSchema>;

export const importJobProgressSchema = z.preprocess(
  withJobId,
  z.object({
    jobId: z.string(),
    collectionName: z.string(),
    ...progressFields,
    details: z.array(importFileProgressSchema).default([]),
  }),
);
export type ImportJobProgress = z.infer<typeof importJobProgressSchema>;

export const listImportJobsRequestSchema = z
  .object({
    ...targetFields,
    collectionName: optionalText,
    dbName: optionalText,
    pageSize: z.number().int().min(1).max(100).default(10),
    currentPage: z.number().int().min(1).default(1),
  })
  .superRefine(checkTarget);
export type ListImportJobsRequest = z.infer<typeof listImportJobsRequestSchema>;

export const importJobRecordSchema = z.preprocess(
  withJobId,
  z.object({
    jobId: z.string(),
    collectionName: z.string(),
    state: importJobStateSchema,
    progress: wireCount.optional(),
    reason: z.string().optional(),
  }),
);
export type ImportJobRecord = z.infer<typeof importJobRecordSchema>;

/** The docs show only `records`; the Java SDK also reads the page fields. */
export const listImportJobsDataSchema = z.object({
  count: wireCount.optional(),
  currentPage: wireCount.optional(),
  pageSize: wireCount.optional(),
  records: z.array(importJobRecordSchema),
});
export type ImportJobPage = z.infer<typeof listImportJobsDataSchema>;
