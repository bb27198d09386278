/**
 * The emulator's merge call (`POST /v2/etl/merge`) and the generic jobs call
 * (`GET /v2/jobs/{jobId}`), which shows merge jobs and import jobs alike (an
 * import as type `IMPORT`, its states in the jobs call's words). Errors are
 * answered in the service's style, as the import calls are. A merge is
 * refused only for a malformed request or an unknown cluster; everything
 * else (the collections, the volume, the Parquet data) fails the job with a
 * reason, as the service's asynchronous checks do.
 */
import { MERGE_PATHS, mergeRequestSchema, type JobStatus } from "../client/merge-schemas";
import type { ImportJobState } from "../client/import-schemas";
import type { Collections } from "./collections";
import type { FaultInjector, RequestKind } from "./faults";
import type { ImportJobs } from "./import-jobs";
import { type Answer, ok, parse, refuse } from "./import-routes";
import type { MergeJobs } from "./merge-jobs";

/** Which merge or jobs call a request is, or undefined. */
export function mergeKind(method: string, pathname: string): RequestKind | undefined {
  if (method === "POST" && pathname === MERGE_PATHS.create) return "merge:create";
  if (method === "GET" && pathname.startsWith(MERGE_PATHS.jobs) && pathname.length > MERGE_PATHS.jobs.length) return "jobs:describe";
  return undefined;
}

export interface MergeRoutes {
  collections: Collections;
  merges: MergeJobs;
  imports: ImportJobs;
  faults: FaultInjector;
}

const IMPORT_STATUS: Record<ImportJobState, JobStatus> = {
  Pending: "PENDING",
  Importing: "IN_PROGRESS",
  Completed: "SUCCESSFUL",
  Failed: "FAILED",
};

export async function handleMerge(kind: RequestKind, pathname: string, raw: string, routes: MergeRoutes): Promise<Answer> {
  if (kind === "merge:create") {
    const parsed = parse(mergeRequestSchema, raw);
    if ("answer" in parsed) return parsed.answer;
    const r = parsed.value;
    if (!routes.collections.hasLocation(r.clusterId)) return refuse("clusterNotFound", `cluster ${r.clusterId} does not exist`);
    const failure = routes.faults.takeJobFault("merge:job");
    const jobId = await routes.merges.create({ location: r.clusterId, request: r, ...(failure ? { failure } : {}) });
    return ok({ jobId });
  }
  const jobId = decodeURIComponent(pathname.slice(MERGE_PATHS.jobs.length));
  const merge = routes.merges.describe(jobId);
  if (merge) return ok(merge);
  const found = routes.imports.find(jobId);
  if (!found) return refuse("jobNotFound", `job ${jobId} does not exist`);
  const p = found.progress;
  return ok({
    jobId,
    type: "IMPORT",
    status: IMPORT_STATUS[p.state],
    progress: String(p.progress),
    startTime: new Date(found.createdAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    endTime: p.completeTime ?? "",
    reason: p.reason ?? "",
  });
}
