/**
 * Finding the job a create started when its answer was lost (a timeout, a
 * reset, a 500 after the work was done). Create is not retried (a second
 * job would import the rows twice), so the job, if there is one, must be
 * found: the collection's newest jobs from `list`, then each one's progress
 * (`describe`) compared with what was asked: same collection, the same
 * files, and created since the attempt. The list answer carries no creation
 * time, so "since the attempt" means still running, or ended after it.
 */
import { certainlyNotDone } from "../retry";
import { API_SUCCESS_CODES } from "../client/api-codes";
import type { ImportJobClient, ImportTarget } from "../client/import-client";
import type { ImportJobProgress } from "../client/import-schemas";
import { ZillizApiError, ZillizImportError, ZillizTlsError, ZillizTransportError } from "../errors";
import { ImportJobInputs, UNKNOWN_STATE } from "./import-job-inputs";
import { fileNameForms } from "./import-job-object-urls";

/** Newest jobs of the collection looked at: a job started seconds ago is among the first. */
export const RECENT_JOBS = 20;
/** Clocks differ: a job that ended this long before the attempt may still be the one. */
export const CLOCK_SKEW_MS = 60_000;
/** A job that has not read its files yet reports none: looked at again, this often, this many times. */
const SETTLE_POLLS = 5;
const SETTLE_MS = 1_000;

/**
 * Whether a failed create may have started a job: no answer (a timeout or
 * a reset after the request left), a server error, or a success answer that
 * could not be read. A refusal (an error code, a 4xx) or a failure before
 * anything was sent started nothing.
 */
export function mayHaveStarted(err: unknown): boolean {
  if (err instanceof ZillizTlsError) return false;
  if (err instanceof ZillizTransportError) return !certainlyNotDone({ cause: err.cause ?? err });
  if (err instanceof ZillizApiError) {
    if (err.status === 429 || err.status === 501 || err.status === 503) return false;
    return err.status >= 500 || (err.status === 200 && API_SUCCESS_CODES.includes(err.apiCode));
  }
  return false;
}

export interface LostJobQuery {
  client: ImportJobClient;
  target: ImportTarget;
  collectionName: string;
  dbName?: string;
  dataPaths: readonly (readonly string[])[];
  /** When the create that lost its answer was sent (ms since the epoch). */
  attemptedAt: number;
  /** Test hook; default a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

export type LostJobSearch =
  | { found: string }
  /** No job of the collection matches: none was started, or the service does not show it yet. */
  | { none: true; looked: number }
  /** More than one job may be it, or one could not be told apart (it has not read its files yet). */
  | { ambiguous: string[] };

type Match = "yes" | "no" | "maybe";

/** Does the job import exactly these paths (or object URLs)? A path ending in "/" is a folder and covers the files under it. */
export function sameFiles(details: ImportJobProgress["details"], dataPaths: readonly (readonly string[])[]): Match {
  const paths = dataPaths.flat();
  if (details.length === 0) return paths.length === 0 ? "yes" : "maybe";
  // An object URL may come back as the URL, bucket/key or the key (fileNameForms).
  const covers = (p: string, fileName: string) => fileNameForms(p).some((f) => fileName === f || (f.endsWith("/") && fileName.startsWith(f)));
  const everyFileAsked = details.every((d) => paths.some((p) => covers(p, d.fileName)));
  const everyPathSeen = paths.every((p) => details.some((d) => covers(p, d.fileName)));
  return everyFileAsked && everyPathSeen ? "yes" : "no";
}

function sinceAttempt(job: ImportJobProgress, attemptedAt: number): Match {
  if (job.state === "Pending" || job.state === "Importing") return "yes";
  const ended = Date.parse(job.completeTime ?? "");
  if (Number.isNaN(ended)) return "maybe";
  return ended >= attemptedAt - CLOCK_SKEW_MS ? "yes" : "no";
}

function judge(job: ImportJobProgress, q: LostJobQuery): Match {
  if (job.collectionName !== q.collectionName) return "no";
  const time = sinceAttempt(job, q.attemptedAt);
  const files = sameFiles(job.details, q.dataPaths);
  if (time === "no" || files === "no") return "no";
  return time === "yes" && files === "yes" ? "yes" : "maybe";
}

/**
 * Looks for the job a lost create started. Found only when exactly one job
 * matches for sure and none other might; a job that has not read its files
 * yet is looked at again for a few seconds before it counts as "cannot tell".
 */
export async function findLostJob(q: LostJobQuery): Promise<LostJobSearch> {
  const sleep = q.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const page = await q.client.list(q.target, { collectionName: q.collectionName, dbName: q.dbName, pageSize: RECENT_JOBS, currentPage: 1 });
  const ids = page.records.filter((r) => r.collectionName === q.collectionName).map((r) => r.jobId);
  let pending = ids;
  const yes: string[] = [];
  let maybe: string[] = [];
  for (let poll = 0; ; poll++) {
    maybe = [];
    for (const jobId of pending) {
      const verdict = judge(await q.client.progress(q.target, jobId), q);
      if (verdict === "yes") yes.push(jobId);
      else if (verdict === "maybe") maybe.push(jobId);
    }
    if (yes.length > 1 || maybe.length === 0 || poll >= SETTLE_POLLS) break;
    pending = maybe;
    await sleep(SETTLE_MS);
  }
  if (yes.length === 1 && maybe.length === 0) return { found: yes[0] };
  if (yes.length === 0 && maybe.length === 0) return { none: true, looked: ids.length };
  return { ambiguous: [...yes, ...maybe] };
}

/**
 * The create's answer was lost and its job cannot be told: say that a job
 * may be running, how to look, and what the next `up` does.
 */
export function lostAnswerError(
  label: string,
  cause: Error | undefined,
  inputs: Pick<ImportJobInputs, "clusterId" | "projectId" | "regionId" | "collectionName">,
  search: LostJobSearch | { failed: Error },
): ZillizImportError {
  const why =
    "failed" in search
      ? `looking for it failed too (${search.failed.message})`
      : "ambiguous" in search
        ? `${search.ambiguous.length} jobs of ${inputs.collectionName} may be it (${search.ambiguous.join(", ")})`
        : "no job of the collection shows it yet";
  const target = inputs.clusterId ? `"clusterId":"${inputs.clusterId}"` : `"projectId":"${inputs.projectId}","regionId":"${inputs.regionId}"`;
  const message =
    `${label}: ${cause ? `the answer to create was lost (${cause.message}), so ` : ""}a job may have started that cannot be identified: ${why}. ` +
    `Check the import jobs of collection ${inputs.collectionName} before anything else: in the Zilliz Cloud console (the cluster's collection, Data Import), ` +
    `or with POST /v2/vectordb/jobs/import/list {${target},"collectionName":"${inputs.collectionName}"} and describe of each job. ` +
    `The next \`pulumi up\` looks again: it follows the job it can identify, starts one if it finds none, and otherwise fails again without starting one ` +
    `(to start a new job regardless, change \`trigger\`).`;
  return new ZillizImportError({ jobId: "", report: { state: UNKNOWN_STATE, progress: 0 }, details: [], message, cause });
}
