/**
 * Merge jobs: the emulator's stand-in for `POST /v2/etl/merge`. A job checks
 * everything it needs when it leaves PENDING (the source collection, the
 * volume and its Parquet data, the new fields' types, that the destination
 * is free), so each problem fails it with a reason; then it advances at a
 * set pace over the source's rows so progress can be watched, and at the end
 * makes the destination collection. Jobs persist under the data directory;
 * a restart mid-job resumes it.
 */
import * as path from "node:path";
import { z } from "zod";
import { JobStatus, jobStatusSchema, mergeRequestSchema, type JobReport } from "../client/merge-schemas";
import type { Collections, Field } from "./collections";
import { readRows, type ColumnInfo, type Row } from "./data-rows";
import type { StagedFiles, StagedSource } from "./import-files";
import { JobRunner, timestamp } from "./job-runner";
import { mergeRows, type ParquetData } from "./merge";

const jobSchema = z.object({
  jobId: z.string(),
  location: z.string(),
  request: mergeRequestSchema,
  status: jobStatusSchema,
  reason: z.string(),
  createdAt: z.number(),
  startTime: z.string(),
  endTime: z.string(),
  totalRows: z.number(),
  doneRows: z.number(),
  /** An injected fault this job will meet. */
  failure: z.object({ atProgress: z.number(), reason: z.string() }).optional(),
});
type Job = z.infer<typeof jobSchema>;
export type NewMergeJob = Pick<Job, "location" | "request" | "failure">;

export interface MergeJobsOptions {
  dataDir: string;
  files: StagedFiles;
  collections: Collections;
  /** Source rows merged per second, per job. */
  rowsPerSecond: number;
  stepMs: number;
}

export class MergeJobs {
  private runner!: JobRunner<Job>;

  private constructor(private readonly options: MergeJobsOptions) {}

  static async open(options: MergeJobsOptions): Promise<MergeJobs> {
    const merges = new MergeJobs(options);
    merges.runner = await JobRunner.open({
      file: path.join(options.dataDir, "merge-jobs.json"),
      schema: jobSchema,
      stepMs: options.stepMs,
      label: "merge jobs",
      running: (job) => job.status === "PENDING" || job.status === "IN_PROGRESS",
      step: (job) => merges.step(job),
    });
    return merges;
  }

  create(init: NewMergeJob): Promise<string> {
    return this.runner.create({ ...init, status: "PENDING", reason: "", createdAt: Date.now(), startTime: timestamp(), endTime: "", totalRows: 0, doneRows: 0 });
  }

  /** The job as `GET /v2/jobs/{jobId}` shows it (progress as a string, as the service sends it). */
  describe(jobId: string): (Omit<JobReport, "progress"> & { progress: string }) | undefined {
    const job = this.runner.get(jobId);
    if (!job) return undefined;
    const progress = job.status === "SUCCESSFUL" ? 100 : job.totalRows === 0 ? 0 : Math.floor((job.doneRows * 100) / job.totalRows);
    return { jobId, type: "MERGE", status: job.status, progress: String(progress), startTime: job.startTime, endTime: job.endTime, reason: job.reason };
  }

  /** Stops advancing jobs and waits for the step in flight and its write. */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async step(job: Job): Promise<void> {
    if (job.status === "PENDING") {
      const merged = await this.merge(job);
      if ("reason" in merged) this.end(job, "FAILED", merged.reason);
      else Object.assign(job, { status: "IN_PROGRESS" satisfies JobStatus, totalRows: merged.rows.length });
    } else {
      await this.advance(job);
    }
  }

  /** Merges the next slice of rows; a queued fault stops the job at its progress; the last slice makes the collection. */
  private async advance(job: Job): Promise<void> {
    const budget = Math.max(1, Math.round((this.options.rowsPerSecond * this.options.stepMs) / 1000));
    const failAt = job.failure ? Math.ceil((job.totalRows * job.failure.atProgress) / 100) : Infinity;
    job.doneRows = Math.min(job.totalRows, job.doneRows + budget, failAt);
    if (job.failure && job.doneRows >= failAt) return this.end(job, "FAILED", job.failure.reason);
    if (job.doneRows < job.totalRows) return;
    // Read again at the end: the data may have changed while the job ran, as the service would see it.
    const merged = await this.merge(job);
    if ("reason" in merged) return this.end(job, "FAILED", merged.reason);
    const r = job.request;
    try {
      await this.options.collections.create({ location: job.location, dbName: r.destDbName ?? r.dbName, collectionName: r.destCollectionName }, merged.fields, merged.rows);
    } catch (err) {
      return this.end(job, "FAILED", (err as Error).message);
    }
    this.end(job, "SUCCESSFUL", "");
  }

  private end(job: Job, status: "FAILED" | "SUCCESSFUL", reason: string): void {
    Object.assign(job, { status, reason, endTime: timestamp() });
  }

  /** The merged collection, or why there is none. */
  private async merge(job: Job): Promise<{ fields: Field[]; rows: Row[] } | { reason: string }> {
    const r = job.request;
    const destDb = r.destDbName ?? r.dbName;
    if (this.options.collections.get({ location: job.location, dbName: destDb, collectionName: r.destCollectionName })) {
      return { reason: `the destination collection ${r.destCollectionName} already exists in database ${destDb}: a merge makes a new collection` };
    }
    const source = this.options.collections.get({ location: job.location, dbName: r.dbName, collectionName: r.collectionName });
    if (!source) return { reason: `collection ${r.collectionName} does not exist in database ${r.dbName}` };
    let parquet: ParquetData | undefined;
    if (r.dataSource) {
      const read = await this.readParquet(r.dataSource.type === "volume" ? { kind: "volume", name: r.dataSource.volumeName! } : { kind: "stage", name: r.dataSource.stageName! }, r.dataSource.dataPath);
      if ("reason" in read) return read;
      parquet = read;
    }
    return mergeRows({ source: { name: r.collectionName, fields: source.fields ?? [], rows: source.rows }, parquet, mergeField: r.mergeField, newFields: r.newFields });
  }

  /** The rows of a Parquet file, or of the same-shaped Parquet files of a folder. */
  private async readParquet(source: StagedSource, dataPath: string): Promise<ParquetData | { reason: string }> {
    const files = this.options.files;
    const where = `${source.kind} ${source.name}`;
    if (!files.exists(source)) return { reason: `${where} does not exist` };
    const names = dataPath.endsWith("/") ? files.list(source, dataPath).filter((n) => n.toLowerCase().endsWith(".parquet")) : [dataPath];
    if (names.length === 0) return { reason: `folder ${dataPath} holds no Parquet file in ${where}` };
    let columns: ColumnInfo[] | undefined;
    const rows: Row[] = [];
    for (const name of names) {
      if (!name.toLowerCase().endsWith(".parquet")) return { reason: `file ${name} is not a Parquet file: a merge reads .parquet files` };
      const bytes = await files.read(source, name);
      if (bytes === undefined) return { reason: `file ${name} does not exist in ${where}` };
      let read;
      try {
        read = await readRows(name, bytes);
      } catch (err) {
        return { reason: `cannot read file ${name}: ${(err as Error).message}` };
      }
      const shape = JSON.stringify(read.columns);
      if (columns && JSON.stringify(columns) !== shape) return { reason: `file ${name} has other columns than ${names[0]}: the files of a folder must be the same shape` };
      columns = read.columns ?? [];
      rows.push(...read.rows);
    }
    return { dataPath, columns: columns ?? [], rows };
  }
}
