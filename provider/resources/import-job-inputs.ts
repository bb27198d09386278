/**
 * What an ImportJob takes and keeps: its inputs as a zod schema, the rules
 * that tie inputs together (one deployment, one source, at least one path),
 * and the outputs the state holds. Pure; the provider does the I/O.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { dataPathSchema, ImportJobState, objectUrlSchema } from "../client/import-schemas";
import type { ImportReport } from "../errors";
import type { ImportTarget } from "../client/import-client";
import { stageNameSchema } from "../client/schemas";
import { connectionInputSchema } from "./connection";
import { bucketOf, digestFor, importedList, sourceFailures } from "./import-job-object-urls";
import { CheckFailure, isUnknown } from "./inputs";
import { unpackDataPaths } from "./packed-data-paths";

/** How long create (or the update that follows a running job) waits, when the program does not say. */
export const DEFAULT_TIMEOUT_SECONDS = 1800;

/** Every field checked on its own; the rules between fields are in crossFieldFailures. */
export const importJobInputsSchema = z.object({
  clusterId: z.string().min(1, "must not be empty").optional(),
  projectId: z.string().min(1, "must not be empty").optional(),
  regionId: z.string().min(1, "must not be empty").optional(),
  collectionName: z.string().min(1, "must not be empty").optional(),
  partitionName: z.string().min(1, "must not be empty; leave it out for the default partition").optional(),
  dbName: z.string().min(1, "must not be empty; leave it out for the default database").optional(),
  volumeName: stageNameSchema.optional(),
  stageName: stageNameSchema.optional(),
  dataPaths: z.array(z.array(dataPathSchema).min(1, "each batch must name at least one path")).optional(),
  /** `dataPaths` as the TypeScript ImportJob sends a files resource's (packed-data-paths.ts); not in the package schema. */
  dataPathsPacked: z.string().optional(),
  /** The user's own bucket instead of a volume or stage: batches of object URLs, by the rules of dataPaths. */
  objectUrls: z.array(z.array(objectUrlSchema).min(1, "each batch must name at least one object URL")).optional(),
  /** With objectUrls: the key pair that reads them. Secrets: the state keeps only their digest. */
  accessKey: z.string().min(1, "must not be empty").optional(),
  secretKey: z.string().min(1, "must not be empty").optional(),
  allowEmpty: z.boolean().optional(),
  trigger: z.string().optional(),
  waitForCompletion: z.boolean().optional(),
  timeoutSeconds: z.number().int().min(1, "must be at least 1").max(7 * 24 * 3600, "must be at most a week (604800)").optional(),
  connection: connectionInputSchema.optional(),
});
export type ImportJobInputs = z.infer<typeof importJobInputsSchema>;

const given = (v: unknown) => v !== undefined && v !== null && v !== "";

/**
 * The rules between fields, each naming the field to fix and how (those of
 * the source in import-job-object-urls.ts). A value
 * unknown during preview counts as given (it will be), so preview never
 * refuses what `up` would accept.
 */
export function crossFieldFailures(news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const add = (property: string, reason: string) => failures.push({ property, reason: `${property} ${reason}` });
  if (!given(news.collectionName)) {
    add("collectionName", 'is required: the collection to import into, e.g. collectionName: "books" (an import does not create it)');
  }
  const [cluster, project, region] = [given(news.clusterId), given(news.projectId), given(news.regionId)];
  if (cluster && (project || region)) {
    add(
      project ? "projectId" : "regionId",
      "must not be given together with clusterId: address the collection by clusterId (a cluster), or by projectId and regionId (a project database), not both",
    );
  } else if (!cluster && !project && !region) {
    add("clusterId", "is required: the cluster that holds the collection (e.g. in01-0123456789abcdef), or projectId and regionId for a project database");
  } else if (!cluster && !(project && region)) {
    add(project ? "regionId" : "projectId", `is required together with ${project ? "projectId" : "regionId"} (a project database is addressed by both)`);
  }
  failures.push(...sourceFailures(news));
  return failures;
}

/**
 * The inputs with `dataPaths` as a list of lists, however they came: the
 * controller's view. The engine keeps what the program sent (packed stays
 * packed in the state). Packed paths that do not decode become a failure
 * of check (`unpackFailure`); elsewhere they throw.
 */
export function withDataPaths<T extends Record<string, unknown>>(inputs: T): T {
  const packed = inputs.dataPathsPacked;
  if (packed === undefined) return inputs;
  const { dataPathsPacked: _, ...rest } = inputs;
  // Unknown during a preview (the engine's sentinel is a string too): then so are the paths.
  return { ...rest, dataPaths: isUnknown(packed) || typeof packed !== "string" ? packed : unpackDataPaths(packed) } as unknown as T;
}

/** Why the packed paths in `news` cannot be used, if they cannot. */
export function packedFailures(news: Record<string, unknown>): CheckFailure[] {
  if (news.dataPathsPacked === undefined || isUnknown(news.dataPathsPacked)) return [];
  if (news.dataPaths !== undefined) {
    return [{ property: "dataPaths", reason: "dataPaths must not be given together with dataPathsPacked (which the TypeScript ImportJob sends for a files resource's dataPaths)" }];
  }
  try {
    if (typeof news.dataPathsPacked === "string") unpackDataPaths(news.dataPathsPacked);
    return [];
  } catch (err) {
    return [{ property: "dataPaths", reason: `dataPaths ${(err as Error).message}` }];
  }
}

/** What the job addresses: a cluster, or a project database. */
export function targetOf(inputs: Pick<ImportJobInputs, "clusterId" | "projectId" | "regionId">): ImportTarget {
  return inputs.clusterId ? { clusterId: inputs.clusterId } : { projectId: inputs.projectId!, regionId: inputs.regionId! };
}

/**
 * Where the files are, in words: `volume raw`, `stage raw` or `bucket
 * s3://raw` (objectUrls); from recorded outputs, which keep only the URLs'
 * hash, `bucket (objectUrls)`.
 */
export function sourceOf(
  inputs: Pick<ImportJobInputs, "volumeName" | "stageName" | "objectUrls"> & { objectUrlsHash?: string },
): { kind: "volume" | "stage" | "bucket"; name: string } {
  if (inputs.objectUrls) return { kind: "bucket", name: bucketOf(inputs.objectUrls) };
  if (inputs.objectUrlsHash) return { kind: "bucket", name: "(objectUrls)" };
  return inputs.volumeName ? { kind: "volume", name: inputs.volumeName } : { kind: "stage", name: inputs.stageName! };
}

/** One SHA-256 over the batches: the state keeps this, not a second copy of every path. */
export function dataPathsHash(dataPaths: readonly (readonly string[])[] | undefined): string {
  return createHash("sha256")
    .update(JSON.stringify(dataPaths ?? []))
    .digest("hex");
}

/** The state of a resource whose dataPaths were empty (allowEmpty): no job was started. */
export const SKIPPED = "Skipped";
/** The id of such a resource. */
export const NO_JOB_ID = "no-job";
/**
 * The state of a resource whose create lost its answer and whose job could
 * not be identified: a job may be running. The next `up` looks for it
 * (import-job-recovery.ts) before it starts another.
 */
export const UNKNOWN_STATE = "Unknown";
/** The id of such a resource (the job's id is not known). */
export const LOST_ANSWER_ID = "job-unknown";

/** What an ImportJob keeps in the state: what it imported (to tell a change) and the job's last report. */
export interface ImportJobOutputs {
  clusterId?: string;
  projectId?: string;
  regionId?: string;
  collectionName: string;
  partitionName?: string;
  dbName?: string;
  volumeName?: string;
  stageName?: string;
  /** SHA-256 of the batches (dataPathsHash). */
  dataPathsHash: string;
  /** SHA-256 of objectUrls (dataPathsHash of them), when the job reads the user's bucket; the URLs are not kept. */
  objectUrlsHash?: string;
  /** Of accessKey and secretKey (import-job-object-urls.ts), never the keys; a secret output. */
  credentialsDigest?: string;
  /** How many batches and paths (or object URLs) were imported. */
  batchCount: number;
  pathCount: number;
  trigger?: string;
  allowEmpty?: boolean;
  waitForCompletion: boolean;
  timeoutSeconds: number;
  jobId: string;
  state: ImportJobState | typeof SKIPPED | typeof UNKNOWN_STATE;
  /** When the create whose answer was lost was sent (ISO 8601); only while state is Unknown. */
  attemptedAt?: string;
  progress: number;
  importedRows: number;
  totalRows: number;
  fileSize: number;
  completeTime: string;
  /** Why the job failed; "" otherwise. */
  reason: string;
  connection?: ImportJobInputs["connection"];
  /**
   * Only on a resource taken over with `pulumi import`: the files the job's
   * report names. Its diff compares the program's dataPaths with them
   * (import-job-imported.ts), since the report does not say how they were
   * batched; an update, which records the program's dataPaths, drops it.
   */
  jobFiles?: string[];
}

/** The inputs whose change means other rows: a new job. */
export const IMPORT_DEFINING_INPUTS = [
  "clusterId",
  "projectId",
  "regionId",
  "collectionName",
  "partitionName",
  "dbName",
  "volumeName",
  "stageName",
  "trigger",
] as const;

/** Only defined values: `undefined` cannot cross the engine's wire. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The state for `inputs` with the job's latest report (or none yet). */
export function outputsFor(
  inputs: ImportJobInputs,
  job: { jobId: string; report?: ImportReport; state?: ImportJobOutputs["state"]; attemptedAt?: string; credentialsDigest?: string },
): ImportJobOutputs {
  const paths = importedList(inputs).batches;
  const r = job.report;
  return defined({
    clusterId: inputs.clusterId,
    projectId: inputs.clusterId ? undefined : inputs.projectId,
    regionId: inputs.clusterId ? undefined : inputs.regionId,
    collectionName: inputs.collectionName!,
    partitionName: inputs.partitionName,
    dbName: inputs.dbName,
    volumeName: inputs.volumeName,
    stageName: inputs.volumeName ? undefined : inputs.stageName,
    dataPathsHash: dataPathsHash(inputs.dataPaths),
    objectUrlsHash: inputs.objectUrls ? dataPathsHash(inputs.objectUrls) : undefined,
    credentialsDigest: digestFor(inputs, job.credentialsDigest),
    batchCount: paths.length,
    pathCount: paths.reduce((n, b) => n + b.length, 0),
    trigger: inputs.trigger,
    allowEmpty: inputs.allowEmpty,
    waitForCompletion: inputs.waitForCompletion ?? true,
    timeoutSeconds: inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    jobId: job.jobId,
    state: (r?.state as ImportJobState | undefined) ?? job.state ?? "Pending",
    progress: r?.progress ?? 0,
    importedRows: r?.importedRows ?? 0,
    totalRows: r?.totalRows ?? 0,
    fileSize: r?.fileSize ?? 0,
    completeTime: r?.completeTime ?? "",
    reason: r?.reason ?? "",
    attemptedAt: job.attemptedAt,
    connection: inputs.connection,
  });
}

/** The recorded job's report with new settings from `inputs` (nothing about the job changes). */
export function withSettings(olds: ImportJobOutputs, inputs: ImportJobInputs): ImportJobOutputs {
  return outputsFor(inputs, { jobId: olds.jobId, report: olds, state: olds.state, credentialsDigest: olds.credentialsDigest });
}

/** Recorded outputs with the job's latest report. */
export function withReport(olds: ImportJobOutputs, r: ImportReport): ImportJobOutputs {
  return defined({
    ...olds,
    state: r.state as ImportJobState,
    progress: r.progress,
    importedRows: r.importedRows ?? 0,
    totalRows: r.totalRows ?? 0,
    fileSize: r.fileSize ?? 0,
    completeTime: r.completeTime ?? "",
    reason: r.reason ?? "",
  });
}

export const isRunning = (state: string | undefined): boolean => state === "Pending" || state === "Importing";
