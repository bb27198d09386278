// followJob's reporting and deadline on a clock the test drives: the job's
// answers are scripted, the sleeps advance the clock instead of waiting.
import type { ImportJobClient } from "../../provider/client";
import type { ImportJobProgress } from "../../provider/client/import-schemas";
import { ZillizImportError } from "../../provider/errors";
import { followJob, formatFileDetails, LISTED_FILE_DETAILS } from "../../provider/resources/import-job-wait";

function scripted(reports: Partial<ImportJobProgress>[]): { client: ImportJobClient; polls: () => number } {
  let i = 0;
  const client = {
    progress: async () => ({ jobId: "job-1", collectionName: "books", details: [], ...reports[Math.min(i++, reports.length - 1)] }),
  } as unknown as ImportJobClient;
  return { client, polls: () => i };
}

function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), at: () => t };
}

const importing = (progress: number) => ({ state: "Importing" as const, progress, importedRows: progress * 10, totalRows: 1000 });

test("a progress line at most every everyMs, and one when the job completes", async () => {
  const c = clock();
  const reports = [...Array.from({ length: 40 }, (_, i) => importing(Math.min(99, i * 3))), { state: "Completed" as const, progress: 100, importedRows: 1000, totalRows: 1000 }];
  const { client, polls } = scripted(reports);
  const lines: string[] = [];
  const last = await followJob({ client, target: { clusterId: "c" }, jobId: "job-1", label: "ImportJob books <- volume v", deadline: 1e9, timeoutSeconds: 1e6, log: (l) => lines.push(l), everyMs: 10_000, now: c.now, sleep: c.sleep });
  expect(last.state).toBe("Completed");
  expect(polls()).toBe(41);
  expect(lines[0]).toBe("ImportJob books <- volume v: job job-1 Importing 0% (0 of 1,000 rows)");
  expect(lines.at(-1)).toBe("ImportJob books <- volume v: job job-1 Completed: 1,000 rows imported");
  // 40 polls, 5 s apart once warmed up: well over 100 s of job, one line per 10 s at most.
  expect(lines.length).toBeLessThanOrEqual(2 + Math.ceil(c.at() / 10_000));
  expect(lines.length).toBeGreaterThan(5);
});

test("no line while nothing moved, however long the job stands still; one as soon as it moves", async () => {
  const c = clock();
  // 30 polls at 10% (about 140 s, many times everyMs), then 20%, then done.
  const reports = [...Array.from({ length: 30 }, () => importing(10)), importing(20), { state: "Completed" as const, progress: 100, importedRows: 1000, totalRows: 1000 }];
  const { client, polls } = scripted(reports);
  const lines: string[] = [];
  await followJob({ client, target: { clusterId: "c" }, jobId: "job-1", label: "L", deadline: 1e9, timeoutSeconds: 1e6, log: (l) => lines.push(l), everyMs: 10_000, now: c.now, sleep: c.sleep });
  expect(polls()).toBe(32);
  expect(c.at()).toBeGreaterThan(10 * 10_000);
  expect(lines).toEqual(["L: job job-1 Importing 10% (100 of 1,000 rows)", "L: job job-1 Importing 20% (200 of 1,000 rows)", "L: job job-1 Completed: 1,000 rows imported"]);
});

test("the deadline ends the wait with the job's last report, and the sleeps never pass it", async () => {
  const c = clock();
  const { client } = scripted([importing(10)]);
  const err = await followJob({ client, target: { clusterId: "c" }, jobId: "job-1", label: "L", deadline: 12_345, timeoutSeconds: 12, log: () => undefined, everyMs: 10_000, now: c.now, sleep: c.sleep }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ZillizImportError);
  expect(err).toMatchObject({ jobId: "job-1", report: { state: "Importing", progress: 10 } });
  expect(c.at()).toBe(12_345);
});

test("a failed job's files are listed, at most LISTED_FILE_DETAILS of them", () => {
  const details = Array.from({ length: LISTED_FILE_DETAILS + 5 }, (_, i) => ({ fileName: `f${i}.json`, state: "Failed" as const, progress: 0, reason: "bad row" }));
  const lines = formatFileDetails([{ fileName: "ok.json", state: "Completed", progress: 100 }, ...details]);
  expect(lines).toHaveLength(LISTED_FILE_DETAILS + 1);
  expect(lines[0]).toBe("  f0.json: Failed 0%: bad row");
  expect(lines.at(-1)).toBe("  ... and 5 more files");
});
