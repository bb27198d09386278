/**
 * Following an import job until it ends (the loop is job-poll's): stop at
 * Completed, and turn Failed or a timeout into a ZillizImportError that keeps the job id (so a rerun follows the same
 * job). The clock and the sleep are passed in, so the tests never time.
 */
import type { ImportJobClient, ImportTarget } from "../client/import-client";
import type { ImportFileProgress, ImportJobProgress } from "../client/import-schemas";
import { ZillizImportError } from "../errors";
import { pollJob } from "./job-poll";

/** Files named in an error; the rest are counted. */
export const LISTED_FILE_DETAILS = 20;

const count = (n: number | undefined): string => (n ?? 0).toLocaleString("en-US");

/** `Importing 42% (840 of 2,000 rows)`. */
export function formatProgress(p: Pick<ImportJobProgress, "state" | "progress" | "importedRows" | "totalRows">): string {
  const rows = p.totalRows ? ` (${count(p.importedRows)} of ${count(p.totalRows)} rows)` : "";
  return `${p.state} ${p.progress}%${rows}`;
}

/** One line per file that did not complete (at most LISTED_FILE_DETAILS), with its state and reason. */
export function formatFileDetails(details: readonly ImportFileProgress[]): string[] {
  const notDone = details.filter((d) => d.state !== "Completed");
  const lines = notDone
    .slice(0, LISTED_FILE_DETAILS)
    .map((d) => `  ${d.fileName}: ${formatProgress(d)}${d.reason ? `: ${d.reason}` : ""}`);
  if (notDone.length > LISTED_FILE_DETAILS) lines.push(`  ... and ${count(notDone.length - LISTED_FILE_DETAILS)} more files`);
  return lines;
}

export interface FollowOptions {
  client: ImportJobClient;
  target: ImportTarget;
  jobId: string;
  /** Names the job in lines and errors, e.g. `ImportJob books <- volume raw`. */
  label: string;
  /** When to give up waiting (ms since the epoch). */
  deadline: number;
  /** What the timeout was, in the words of the input, for the message. */
  timeoutSeconds: number;
  log: (line: string) => void;
  /** Least time between two progress lines. */
  everyMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls until the job is Completed (returns its last report), Failed or past
 * the deadline (throws ZillizImportError carrying that last report).
 */
export async function followJob(o: FollowOptions): Promise<ImportJobProgress> {
  const { outcome, report: p } = await pollJob({
    look: () => o.client.progress(o.target, o.jobId),
    ended: (r) => (r.state === "Completed" ? "done" : r.state === "Failed" ? "failed" : undefined),
    format: formatProgress,
    ...o,
  });
  if (outcome === "failed") throw failedError(o, p);
  if (outcome === "timeout") throw timeoutError(o, p);
  o.log(`${o.label}: job ${o.jobId} Completed: ${count(p.importedRows)} rows imported`);
  return p;
}

function failedError(o: FollowOptions, p: ImportJobProgress): ZillizImportError {
  const details = formatFileDetails(p.details);
  const message =
    `${o.label}: job ${o.jobId} Failed at ${p.progress}%: ${p.reason || "the service gave no reason"}` +
    (details.length ? `\n${details.join("\n")}` : "") +
    "\nFix what the reason names (the files, dataPaths or the collection's schema) and run `pulumi up` again: it starts a new job.";
  return new ZillizImportError({ jobId: o.jobId, report: p, details: p.details, message });
}

function timeoutError(o: FollowOptions, p: ImportJobProgress): ZillizImportError {
  const message =
    `${o.label}: job ${o.jobId} is still ${formatProgress(p)} after timeoutSeconds=${o.timeoutSeconds}. ` +
    "Nothing is lost: the job keeps running on the service, and the next `pulumi up` follows this same job " +
    "(it does not start a second one). Raise timeoutSeconds, or set waitForCompletion: false to return as soon as the job starts.";
  return new ZillizImportError({ jobId: o.jobId, report: p, details: p.details, message });
}
