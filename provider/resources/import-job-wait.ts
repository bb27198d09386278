/**
 * Following an import job until it ends: poll its progress, print a line
 * at most every `everyMs` (10 s in the provider), stop at Completed, and turn Failed or a timeout into
 * a ZillizImportError that keeps the job id (so a rerun follows the same
 * job). The clock and the sleep are passed in, so the tests never time.
 */
import type { ImportJobClient, ImportTarget } from "../client/import-client";
import type { ImportFileProgress, ImportJobProgress } from "../client/import-schemas";
import { ZillizImportError } from "../errors";

/** Polls start quick (small imports end in a second or two) and slow down to this. */
export const MAX_POLL_MS = 5_000;
const FIRST_POLL_MS = 500;
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

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls until the job is Completed (returns its last report), Failed or past
 * the deadline (throws ZillizImportError carrying that last report).
 */
export async function followJob(o: FollowOptions): Promise<ImportJobProgress> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  let lastLine = -Infinity;
  let lastText = "";
  for (let poll = 0; ; poll++) {
    const p = await o.client.progress(o.target, o.jobId);
    const t = now();
    if (p.state === "Completed") {
      o.log(`${o.label}: job ${o.jobId} Completed: ${count(p.importedRows)} rows imported`);
      return p;
    }
    if (p.state === "Failed") throw failedError(o, p);
    const text = formatProgress(p);
    if (t - lastLine >= o.everyMs && text !== lastText) {
      o.log(`${o.label}: job ${o.jobId} ${text}`);
      lastLine = t;
      lastText = text;
    }
    if (t >= o.deadline) throw timeoutError(o, p);
    await sleep(Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** poll, Math.max(0, o.deadline - t)));
  }
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
