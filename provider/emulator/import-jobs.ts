/**
 * Import jobs: the emulator's stand-in for the service importing staged
 * files into a collection. A job reads the files it names once, when it
 * leaves Pending (so a missing or unreadable file fails it with a reason that
 * names the file), then imports their rows at a set pace, file by file, so
 * progress can be watched. Jobs persist under the data directory; a restart
 * mid-job resumes it where it was.
 */
import * as path from "node:path";
import { z } from "zod";
import { importJobStateSchema, type ImportJobProgress, type ImportJobRecord } from "../client/import-schemas";
import { readDataFiles } from "./import-files";
import type { JobFiles } from "./object-urls";
import { JobRunner, timestamp } from "./job-runner";

const failureSchema = z.object({ atProgress: z.number(), reason: z.string() });

const fileSchema = z.object({
  fileName: z.string(),
  /** Files of one unit import together (see DataFile). */
  unit: z.number().int(),
  fileSize: z.number(),
  totalRows: z.number(),
  importedRows: z.number(),
  state: importJobStateSchema,
  completeTime: z.string(),
  reason: z.string().optional(),
});

const jobSchema = z.object({
  jobId: z.string(),
  /** The cluster id, or `projectId:regionId` for a project database. */
  location: z.string(),
  dbName: z.string(),
  collectionName: z.string(),
  partitionName: z.string().optional(),
  /** For an import from object URLs: kind "objects", and the name of its keys, which stay in memory (object-urls.ts). */
  source: z.object({ kind: z.enum(["stage", "volume", "objects"]), name: z.string() }),
  dataPaths: z.array(z.array(z.string())),
  state: importJobStateSchema,
  reason: z.string(),
  createdAt: z.number(),
  completeTime: z.string(),
  /** Rows per NumPy batch count once, not once per field file. */
  totalRows: z.number(),
  files: z.array(fileSchema),
  /** An injected fault this job will meet. */
  failure: failureSchema.optional(),
});
type Job = z.infer<typeof jobSchema>;
type JobFile = z.infer<typeof fileSchema>;

export type NewJob = Pick<Job, "location" | "dbName" | "collectionName" | "partitionName" | "source" | "dataPaths" | "failure">;
/** What a completed job imported, for whoever stores the rows. */
export type CompletedImport = Pick<Job, "location" | "dbName" | "collectionName" | "source"> & { files: ReadonlyArray<Pick<JobFile, "fileName" | "unit">> };

/** The pace of jobs when no option sets it: a few thousand rows show progress, test files finish at once. */
export const DEFAULT_IMPORT_ROWS_PER_SECOND = 2000;

export interface ImportJobsOptions {
  dataDir: string;
  files: JobFiles;
  /** Rows imported per second, per job. */
  rowsPerSecond: number;
  /** How often jobs advance. */
  stepMs: number;
  /** Stores a completed job's rows; a reason fails the job instead. */
  onCompleted?: (job: CompletedImport) => Promise<string | undefined>;
}

/** Percent done, rounded down so that 100 means Completed. */
function percent(done: number, total: number): number {
  return total === 0 ? 0 : Math.floor((done * 100) / total);
}

export class ImportJobs {
  private runner!: JobRunner<Job>;

  private constructor(private readonly options: ImportJobsOptions) {}

  static async open(options: ImportJobsOptions): Promise<ImportJobs> {
    if (!(options.rowsPerSecond > 0)) throw new Error(`import rows per second must be positive, got ${options.rowsPerSecond}`);
    const jobs = new ImportJobs(options);
    jobs.runner = await JobRunner.open({
      file: path.join(options.dataDir, "import-jobs.json"),
      schema: jobSchema,
      stepMs: options.stepMs,
      label: "import jobs",
      running: (job) => job.state === "Pending" || job.state === "Importing",
      step: (job) => jobs.step(job),
    });
    return jobs;
  }

  create(init: NewJob): Promise<string> {
    return this.runner.create({ ...init, state: "Pending", reason: "", createdAt: Date.now(), completeTime: "", totalRows: 0, files: [] });
  }

  /** The job, if it exists at `location`: a job is not visible from another cluster. */
  progress(jobId: string, location: string): ImportJobProgress | undefined {
    const job = this.runner.get(jobId);
    if (!job || job.location !== location) return undefined;
    const importedRows = this.importedRows(job);
    return {
      jobId: job.jobId,
      collectionName: job.collectionName,
      state: job.state,
      // 99 while the rows of a job whose files are all read are being stored: 100 means Completed.
      progress: job.state === "Completed" ? 100 : Math.min(99, percent(importedRows, job.totalRows)),
      importedRows,
      totalRows: job.totalRows,
      fileSize: job.files.reduce((n, f) => n + f.fileSize, 0),
      completeTime: job.completeTime,
      reason: job.reason,
      details: job.files.map((f) => ({
        fileName: f.fileName,
        fileSize: f.fileSize,
        state: f.state,
        progress: f.state === "Completed" ? 100 : percent(f.importedRows, f.totalRows),
        importedRows: f.importedRows,
        totalRows: f.totalRows,
        completeTime: f.completeTime,
        ...(f.reason ? { reason: f.reason } : {}),
      })),
    };
  }

  /** The job wherever it lives, for the generic jobs call (which names no cluster), with when it was created. */
  find(jobId: string): { progress: ImportJobProgress; createdAt: number } | undefined {
    const job = this.runner.get(jobId);
    return job && { progress: this.progress(jobId, job.location)!, createdAt: job.createdAt };
  }

  /** Jobs at `location`, newest first, optionally of one collection and database. */
  list(location: string, filter: { collectionName?: string; dbName?: string }): ImportJobRecord[] {
    return this.runner
      .all()
      .filter((j) => j.location === location)
      .filter((j) => !filter.collectionName || j.collectionName === filter.collectionName)
      .filter((j) => !filter.dbName || j.dbName === filter.dbName)
      .reverse() // newest first also among jobs created in the same millisecond (the sort is stable)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((j) => {
        const p = this.progress(j.jobId, location)!;
        return { jobId: j.jobId, collectionName: j.collectionName, state: j.state, progress: p.progress, reason: j.reason };
      });
  }

  /** Stops advancing jobs and waits for the step in flight and its write. */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  // --- running --------------------------------------------------------------

  /** Rows imported so far: each unit's rows once, however many .npy files carry them. */
  private importedRows(job: Job): number {
    return units(job).reduce((n, files) => n + files[0].importedRows, 0);
  }

  private async step(job: Job): Promise<void> {
    if (job.state === "Pending") return this.scan(job);
    if (!this.advance(job)) return;
    // The rows are stored before the job says Completed: a client that saw
    // Completed must find them, and must never see it turn Failed (the files
    // may be read again over the network, which takes a while and can fail).
    const reason = this.options.onCompleted ? await this.options.onCompleted(job) : undefined;
    if (reason) return this.fail(job, reason);
    job.state = "Completed";
    job.completeTime = timestamp();
  }

  /** Reads every file the job names; a problem with any fails the job before a row is imported. */
  private async scan(job: Job): Promise<void> {
    const read = await readDataFiles(this.options.files, job.source, job.dataPaths);
    if ("reason" in read) return this.fail(job, read.reason);
    job.files = read.files.map((f) => ({ ...f, importedRows: 0, state: "Pending", completeTime: "" }));
    job.totalRows = units(job).reduce((n, unit) => n + unit[0].totalRows, 0);
    job.state = "Importing";
  }

  /** Imports the next slice of rows, unit by unit; a queued fault stops the job at its progress. True once every file is done. */
  private advance(job: Job): boolean {
    let budget = Math.max(1, Math.round((this.options.rowsPerSecond * this.options.stepMs) / 1000));
    const failAt = job.failure ? Math.ceil((job.totalRows * job.failure.atProgress) / 100) : Infinity;
    // Counted as it goes: summing the units again for each one made a job of 100,000 files quadratic.
    let imported = this.importedRows(job);
    for (const unit of units(job)) {
      const head = unit[0];
      if (head.state === "Completed") continue;
      const take = Math.min(budget, head.totalRows - head.importedRows, Math.max(0, failAt - imported));
      budget -= take;
      imported += take;
      const done = head.importedRows + take === head.totalRows;
      for (const f of unit) {
        f.importedRows += take;
        f.state = done ? "Completed" : "Importing";
        if (done) f.completeTime = timestamp();
      }
      if (job.failure && imported >= failAt) {
        for (const f of unit) if (f.state !== "Completed") Object.assign(f, { state: "Failed", reason: job.failure.reason });
        this.fail(job, job.failure.reason);
        return false;
      }
      if (budget <= 0) break;
    }
    return job.files.every((f) => f.state === "Completed");
  }

  private fail(job: Job, reason: string): void {
    job.state = "Failed";
    job.reason = reason;
    job.completeTime = timestamp();
  }
}

/** The job's files grouped by unit, in order. */
function units(job: Job): JobFile[][] {
  const out: JobFile[][] = [];
  for (const f of job.files) {
    if (out.length > 0 && out[out.length - 1][0].unit === f.unit) out[out.length - 1].push(f);
    else out.push([f]);
  }
  return out;
}
