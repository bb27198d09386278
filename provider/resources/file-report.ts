/**
 * What the user reads about a file resource on stderr, which the engine
 * shows with the resource: the files a change adds, changes and removes
 * (printed by diff, so `pulumi preview --diff` shows it), and the progress
 * of a long upload. Pure formatting; the provider decides when to print.
 */
import type { Manifest, Plan, UploadProgress } from "../upload";

/** Files named one by one; a larger change set is summarised after them. */
export const LISTED_FILES = 30;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

const count = (n: number): string => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`;

export interface ChangeSummaryInput {
  /** Who is speaking, e.g. `StagedFiles raw/data/`. */
  label: string;
  /** The stage path the relative paths are under ("" or ending in "/"). */
  path: string;
  plan: Plan;
  previous: Manifest;
  next: Manifest;
  /** Removed files stay in the stage (deleteRemoved: false). */
  keepRemoved: boolean;
}

/**
 * At most LISTED_FILES + 2 lines: a header with the counts and bytes, then
 * each file with its size in path order, then how many more there are.
 * Nothing at all when no file changes.
 */
export function summarizeChanges(input: ChangeSummaryInput): string[] {
  const { plan, previous, next, path } = input;
  const added = plan.upload.filter((rel) => !Object.hasOwn(previous, rel));
  const changedCount = plan.upload.length - added.length;
  const removed = plan.delete;
  if (plan.upload.length === 0 && removed.length === 0) return [];
  const uploadBytes = plan.upload.reduce((sum, rel) => sum + next[rel].size, 0);
  const parts = [`${count(added.length)} added`, `${count(changedCount)} changed`, `${count(removed.length)} removed`];
  const lines = [
    `${input.label}: ${parts.join(", ")} (${formatBytes(uploadBytes)} to upload); ${plural(plan.unchanged.length, "file")} unchanged` +
      (input.keepRemoved && removed.length > 0 ? "; removed files stay in the stage (deleteRemoved: false)" : ""),
  ];

  // Merge the three sorted lists so the files come out in path order.
  const isAdded = new Set(added);
  const marked: [string, string][] = [];
  for (const rel of plan.upload) marked.push([rel, isAdded.has(rel) ? "+" : "~"]);
  for (const rel of removed) marked.push([rel, "-"]);
  marked.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [rel, mark] of marked.slice(0, LISTED_FILES)) {
    const size =
      mark === "+"
        ? formatBytes(next[rel].size)
        : mark === "-"
          ? formatBytes(previous[rel].size)
          : previous[rel].size === next[rel].size
            ? formatBytes(next[rel].size)
            : `${formatBytes(next[rel].size)}, was ${formatBytes(previous[rel].size)}`;
    lines.push(`  ${mark} ${path}${rel} (${size})`);
  }
  if (marked.length > LISTED_FILES) lines.push(`  ... and ${plural(marked.length - LISTED_FILES, "more file")}`);
  return lines;
}

/**
 * Prints a progress line at most every `everyMs` (none for an upload that
 * ends sooner): files and bytes done of total, rate and time left.
 */
export class ProgressReporter {
  private readonly started: number;
  private last: number;

  constructor(
    private readonly label: string,
    private readonly log: (line: string) => void,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = this.last = now();
  }

  update(p: UploadProgress): void {
    const t = this.now();
    if (t - this.last < this.everyMs || p.filesDone >= p.filesTotal) return;
    this.last = t;
    this.log(formatProgress(this.label, p, (t - this.started) / 1000));
  }
}

export function formatProgress(label: string, p: UploadProgress, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? p.bytesDone / elapsedSeconds : 0;
  const pct = p.bytesTotal > 0 ? ` (${((100 * p.bytesDone) / p.bytesTotal).toFixed(1)}%)` : "";
  const left = rate > 0 ? `, about ${formatDuration((p.bytesTotal - p.bytesDone) / rate)} left` : "";
  return (
    `${label}: uploaded ${count(p.filesDone)} of ${plural(p.filesTotal, "file")}, ` +
    `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}${pct}, ${formatBytes(Math.round(rate))}/s${left}`
  );
}

function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
