/**
 * The import-job calls of the emulator: create, getProgress (describe, as
 * the SDKs and self-hosted Milvus name it) and list, with the request and
 * answer shapes of ../client/import-schemas. Errors answer HTTP 200 with a
 * non-zero code and a message, as the service's SDKs expect; unknown things
 * are reported as "... does not exist".
 *
 * Which collections exist comes from the emulator's options. A collection
 * lives in a cluster (`clusterId`) or in a project database, which newer SDKs
 * address by `projectId` + `regionId` instead of a cluster (pymilvus names it
 * "project database"): the emulator keys those by `projectId:regionId`.
 */
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import {
  batchProblem,
  createImportJobRequestSchema,
  DB_NAME_HEADER,
  getImportProgressRequestSchema,
  IMPORT_JOB_PATHS,
  listImportJobsRequestSchema,
} from "../client/import-schemas";
import { API_ERROR_CODES, type ApiErrorKind } from "../client/api-codes";
import type { FaultInjector, RequestKind } from "./faults";
import type { StagedFiles } from "./import-files";
import type { ImportJobs } from "./import-jobs";
import type { JobSource, ObjectUrlFiles } from "./object-urls";

/** With no `collections` option, the one collection the emulator knows. */
export const DEFAULT_COLLECTION = "in01-emulator/quickstart";


const DEFAULT_DB = "default";
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A known collection: where it lives, its database and name. */
export interface KnownCollection {
  location: string;
  dbName: string;
  collectionName: string;
}

/**
 * Parses `<clusterId>/<collection>`, `<clusterId>/<db>/<collection>`, or the
 * same with `<projectId>:<regionId>` in place of the cluster id.
 */
export function parseCollectionSpec(spec: string): KnownCollection {
  const parts = spec.split("/");
  const [location, dbName, collectionName] = parts.length === 2 ? [parts[0], DEFAULT_DB, parts[1]] : parts;
  const locationOk = /^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)?$/.test(location ?? "");
  if ((parts.length !== 2 && parts.length !== 3) || !locationOk || !NAME.test(dbName) || !NAME.test(collectionName)) {
    throw new Error(
      `--collection ${JSON.stringify(spec)}: expected <clusterId>/<collectionName> or <clusterId>/<dbName>/<collectionName> ` +
        "(<projectId>:<regionId> in place of <clusterId> for a project database)",
    );
  }
  return { location, dbName, collectionName };
}

/** Which import call a request is, or undefined. */
export function importKind(method: string, pathname: string): RequestKind | undefined {
  if (method !== "POST") return undefined;
  if (pathname === IMPORT_JOB_PATHS.create) return "import:create";
  // All three names of progress: the SDKs', the Node SDK's and the docs'.
  if (pathname === IMPORT_JOB_PATHS.describe || pathname === IMPORT_JOB_PATHS.getProgressSnake || pathname === IMPORT_JOB_PATHS.getProgress) {
    return "import:progress";
  }
  if (pathname === IMPORT_JOB_PATHS.list) return "import:list";
  return undefined;
}

export interface ImportRoutes {
  collections: readonly KnownCollection[];
  jobs: ImportJobs;
  files: StagedFiles;
  /** Where imports from object URLs read, and keep their keys. */
  objects: ObjectUrlFiles;
  faults: FaultInjector;
}

export interface Answer {
  status: 200;
  body: { code: number; message: string; data?: unknown };
}

export const ok = (data: unknown): Answer => ({ status: 200, body: { code: 0, message: "success", data } });
// The import calls answer errors in the service's style (HTTP 200 + code) whatever the emulator's error style.
export const refuse = (which: ApiErrorKind, message: string): Answer => ({
  status: 200,
  body: { code: API_ERROR_CODES[which], message },
});

export function parse<T>(schema: z.ZodType<T>, raw: string): { value: T } | { answer: Answer } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { answer: refuse("malformedRequest", "Invalid request: the body is not valid JSON") };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".") || "body";
  const what = issue.code === "invalid_type" ? `is required and must be ${issue.expected}` : issue.message;
  return { answer: refuse("malformedRequest", `Invalid request: ${field} ${what}`) };
}

function describeLocation(location: string): string {
  const [project, region] = location.split(":");
  return region === undefined ? `cluster ${location}` : `project database of ${project} in region ${region}`;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** Parses a request and checks the cluster or project database it addresses exists. */
function resolve<T extends { clusterId?: string; projectId?: string; regionId?: string }>(
  schema: z.ZodType<T>,
  raw: string,
  routes: ImportRoutes,
): { value: T; location: string } | { answer: Answer } {
  const parsed = parse(schema, raw);
  if ("answer" in parsed) return parsed;
  const location = parsed.value.clusterId ?? `${parsed.value.projectId}:${parsed.value.regionId}`;
  if (!routes.collections.some((c) => c.location === location)) return { answer: refuse("clusterNotFound", `${describeLocation(location)} does not exist`) };
  return { value: parsed.value, location };
}

export async function handleImport(
  kind: RequestKind,
  raw: string,
  headers: IncomingHttpHeaders,
  routes: ImportRoutes,
): Promise<Answer> {
  switch (kind) {
    case "import:create": {
      const resolved = resolve(createImportJobRequestSchema, raw, routes);
      if ("answer" in resolved) return resolved.answer;
      const { value: r, location } = resolved;
      const dbName = r.dbName ?? header(headers, DB_NAME_HEADER) ?? DEFAULT_DB;
      if (!routes.collections.some((c) => c.location === location && c.dbName === dbName && c.collectionName === r.collectionName)) {
        return refuse("collectionNotFound", `collection ${r.collectionName} does not exist in database ${dbName} of ${describeLocation(location)}`);
      }
      // The schema let exactly one source through: object URLs (objectUrl is the older single form), or a volume or stage with dataPaths.
      const objectUrls = r.objectUrls?.length ? r.objectUrls : r.objectUrl ? [[r.objectUrl]] : undefined;
      const field = objectUrls ? (r.objectUrls?.length ? "objectUrls" : "objectUrl") : "dataPaths";
      const dataPaths = objectUrls ?? r.dataPaths!;
      for (const [i, batch] of dataPaths.entries()) {
        const problem = batchProblem(batch);
        if (problem) return refuse("tooManyFilesInBatch", `Invalid request: ${field}[${i}] ${problem}`);
      }
      let source: JobSource;
      if (objectUrls) {
        // The keys stay in memory; the job names them by an id (never in import-jobs.json).
        source = { kind: "objects", name: routes.objects.register({ accessKey: r.accessKey!, secretKey: r.secretKey!, token: r.token }) };
      } else {
        source = r.volumeName ? { kind: "volume", name: r.volumeName } : { kind: "stage", name: r.stageName! };
        if (!routes.files.exists({ kind: source.kind as "volume" | "stage", name: source.name })) return refuse("sourceNotFound", `${source.kind} ${source.name} does not exist`);
      }
      const failure = routes.faults.takeJobFault("import:job");
      const jobId = await routes.jobs.create({
        location,
        dbName,
        collectionName: r.collectionName,
        ...(r.partitionName ? { partitionName: r.partitionName } : {}),
        source,
        dataPaths,
        ...(failure ? { failure } : {}),
      });
      return ok({ jobId });
    }
    case "import:progress": {
      const resolved = resolve(getImportProgressRequestSchema, raw, routes);
      if ("answer" in resolved) return resolved.answer;
      const { value: r, location } = resolved;
      const progress = routes.jobs.progress(r.jobId, location);
      if (!progress) return refuse("jobNotFound", `import job ${r.jobId} does not exist in ${describeLocation(location)}`);
      return ok(progress);
    }
    case "import:list": {
      const resolved = resolve(listImportJobsRequestSchema, raw, routes);
      if ("answer" in resolved) return resolved.answer;
      const { value: r, location } = resolved;
      const all = routes.jobs.list(location, { collectionName: r.collectionName, dbName: r.dbName ?? header(headers, DB_NAME_HEADER) });
      const records = all.slice((r.currentPage - 1) * r.pageSize, r.currentPage * r.pageSize);
      return ok({ count: all.length, currentPage: r.currentPage, pageSize: r.pageSize, records });
    }
    default:
      return refuse("malformedRequest", "Invalid request: unknown call");
  }
}
