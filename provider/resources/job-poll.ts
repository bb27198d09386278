/**
 * The polling loop every job follower shares (import jobs, merges): look at
 * the job, print a progress line at most every `everyMs` and only when it
 * moved, stop when it ends or at the deadline. Polls start quick (small jobs
 * end in a second or two) and slow down. The clock and the sleep are passed
 * in, so tests never wait.
 */

/** The slowest poll. */
export const MAX_POLL_MS = 5_000;
const FIRST_POLL_MS = 500;

export interface PollOptions<R> {
  /** One look at the job. */
  look: () => Promise<R>;
  /** "done" or "failed" once the job ended; undefined while it runs. */
  ended: (report: R) => "done" | "failed" | undefined;
  /** The report in a few words, e.g. `Importing 42% (840 of 2,000 rows)`. */
  format: (report: R) => string;
  /** Names the job in lines, e.g. `ImportJob books <- volume raw`. */
  label: string;
  jobId: string;
  /** When to give up waiting (ms since the epoch). */
  deadline: number;
  log: (line: string) => void;
  /** Least time between two progress lines. */
  everyMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** How the wait ended, with the job's last report. */
export interface PollOutcome<R> {
  outcome: "done" | "failed" | "timeout";
  report: R;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until the job ends or the deadline passes; never throws for the job's own outcome. */
export async function pollJob<R>(o: PollOptions<R>): Promise<PollOutcome<R>> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  let lastLine = -Infinity;
  let lastText = "";
  for (let poll = 0; ; poll++) {
    const report = await o.look();
    const t = now();
    const ended = o.ended(report);
    if (ended) return { outcome: ended, report };
    const text = o.format(report);
    if (t - lastLine >= o.everyMs && text !== lastText) {
      o.log(`${o.label}: job ${o.jobId} ${text}`);
      lastLine = t;
      lastText = text;
    }
    if (t >= o.deadline) return { outcome: "timeout", report };
    await sleep(Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** poll, Math.max(0, o.deadline - t)));
  }
}
