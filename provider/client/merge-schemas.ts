/**
 * The wire format of data merging (`POST /v2/etl/merge`) and of the generic
 * jobs call that follows it (`GET /v2/jobs/{jobId}`), as zod schemas. The
 * client parses answers with these and the emulator parses requests with
 * them, so the two cannot drift apart. No SDK calls merge; the shapes are the
 * docs' ("Merge Data" guide, `merge-data-v2` REST reference).
 */
import { z } from "zod";
import { dataPathSchema } from "./import-schemas";

export const MERGE_PATHS = {
  create: "/v2/etl/merge",
  /** Followed by the encoded job id. */
  jobs: "/v2/jobs/",
} as const;

/** The types a merged-in field may have. */
export const MERGE_DATA_TYPES = ["VARCHAR", "INT8", "INT16", "INT32", "INT64", "FLOAT", "DOUBLE", "BOOL"] as const;
export const mergeDataTypeSchema = z.enum(MERGE_DATA_TYPES, {
  error: (issue) => `must be one of ${MERGE_DATA_TYPES.join(", ")}, got ${JSON.stringify(issue.input)}`,
});
export type MergeDataType = z.infer<typeof mergeDataTypeSchema>;

/** VARCHAR's longest value, as Milvus allows it. */
export const MAX_VARCHAR_LENGTH = 65_535;

/** One new field as the wire carries it: `params.maxLength` only for VARCHAR. */
export const wireNewFieldSchema = z
  .object({
    fieldName: z.string().min(1, "must not be empty"),
    dataType: mergeDataTypeSchema,
    params: z.object({ maxLength: z.number().int().min(1).max(MAX_VARCHAR_LENGTH) }).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.dataType === "VARCHAR" && !f.params?.maxLength) {
      ctx.addIssue({ code: "custom", path: ["params", "maxLength"], message: "is required for a VARCHAR field" });
    }
  });
export type WireNewField = z.infer<typeof wireNewFieldSchema>;

/** Where the Parquet rows come from; without one, the new fields are added empty. */
export const mergeDataSourceSchema = z
  .object({
    type: z.enum(["volume", "stage"]),
    volumeName: z.string().min(1).optional(),
    stageName: z.string().min(1).optional(),
    dataPath: dataPathSchema,
  })
  .superRefine((s, ctx) => {
    const name = s.type === "volume" ? s.volumeName : s.stageName;
    if (!name) ctx.addIssue({ code: "custom", path: [s.type === "volume" ? "volumeName" : "stageName"], message: `is required for a ${s.type} source` });
  });
export type MergeDataSource = z.infer<typeof mergeDataSourceSchema>;

export const mergeRequestSchema = z.object({
  clusterId: z.string().min(1, "must not be empty"),
  dbName: z.string().min(1).default("default"),
  collectionName: z.string().min(1, "must not be empty"),
  destDbName: z.string().min(1).optional(),
  destCollectionName: z.string().min(1, "must not be empty"),
  dataSource: mergeDataSourceSchema.optional(),
  mergeField: z.string().min(1, "must not be empty"),
  newFields: z.array(wireNewFieldSchema).min(1, "must name at least one field"),
});
export type MergeRequest = z.infer<typeof mergeRequestSchema>;

export const mergeDataSchema = z.object({ jobId: z.string().min(1) });

export const JOB_STATUSES = ["PENDING", "IN_PROGRESS", "SUCCESSFUL", "FAILED", "CANCELING", "CANCELED"] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;

/** The service sends progress as a string ("100"); a number is accepted too. */
const wireProgress = z.union([
  z.number().min(0).max(100),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, "must be a number from 0 to 100")
    .transform(Number),
]);

/** A time the service may leave empty or null while the job runs. */
const wireTime = z
  .string()
  .nullish()
  .transform((v) => v ?? "");

/** `GET /v2/jobs/{jobId}`: `type` is opaque (the docs list none for a merge). */
export const jobSchema = z.object({
  jobId: z.string(),
  type: z.string().nullish().transform((v) => v ?? ""),
  status: jobStatusSchema,
  progress: wireProgress,
  startTime: wireTime,
  endTime: wireTime,
  reason: wireTime,
});
export type JobReport = z.infer<typeof jobSchema>;

/** Still moving: the next look may show it done. */
export const isJobRunning = (status: string | undefined): boolean => status === "PENDING" || status === "IN_PROGRESS" || status === "CANCELING";
