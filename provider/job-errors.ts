/**
 * The errors of the service's jobs: an import or a merge that failed or did
 * not end in time, with the job's last report. Part of the family errors.ts
 * re-exports.
 */
import { ERROR_CODES, ZillizStageError } from "./error-base";

/** What the service last reported of an import job (or of one of its files). */
export interface ImportReport {
  state: string;
  /** 0-100. */
  progress: number;
  importedRows?: number;
  totalRows?: number;
  fileSize?: number;
  completeTime?: string;
  /** Why it failed; empty otherwise. */
  reason?: string;
}

/** One file of an import job as the service reported it. */
export type ImportFileReport = ImportReport & { fileName: string };

/**
 * An import job failed, or did not finish in time. The job keeps its id: a
 * rerun follows the same job (when it timed out) instead of starting a
 * second one that would import the same rows again.
 */
export class ZillizImportError extends ZillizStageError {
  readonly code = ERROR_CODES.import;
  /** The service's id of the job. */
  readonly jobId: string;
  /** The job's last report: `Failed`, or `Pending`/`Importing` when the wait timed out. */
  readonly report: ImportReport;
  /** Per-file state and reasons. */
  readonly details: readonly ImportFileReport[];

  constructor(init: { jobId: string; report: ImportReport; details: readonly ImportFileReport[]; message: string; cause?: unknown }) {
    super(init.message, { cause: init.cause });
    this.jobId = init.jobId;
    this.report = init.report;
    this.details = init.details;
  }
}

/** What the service last reported of a merge job (`GET /v2/jobs/{jobId}`). */
export interface JobReportSummary {
  status: string;
  /** 0-100. */
  progress: number;
  startTime?: string;
  endTime?: string;
  /** Why it failed; empty otherwise. */
  reason?: string;
}

/**
 * A merge job failed, or did not finish in time. Like an import, it keeps
 * its id: a rerun follows the same job (when it timed out) instead of
 * starting a second merge into the same destination.
 */
export class ZillizMergeError extends ZillizStageError {
  readonly code = ERROR_CODES.merge;
  /** The service's id of the job. */
  readonly jobId: string;
  /** The job's last report: `FAILED`, or still running when the wait timed out. */
  readonly report: JobReportSummary;

  constructor(init: { jobId: string; report: JobReportSummary; message: string; cause?: unknown }) {
    super(init.message, { cause: init.cause });
    this.jobId = init.jobId;
    this.report = init.report;
  }
}
