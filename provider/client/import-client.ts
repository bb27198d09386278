/**
 * The import-job calls (`/v2/vectordb/jobs/import/*`): start a job that
 * moves staged files into a collection, follow its progress, list jobs.
 * They go to the same API base URL with the same key as the stage calls, so
 * this is a thin layer over a RestClient (any ZillizClient is one): no
 * transport, envelope or retry logic of its own.
 */
import { ZillizApiError } from "../errors";
import { NOT_FOUND_MESSAGE } from "./api-codes";
import {
  createImportJobDataSchema,
  createImportJobRequestSchema,
  DB_NAME_HEADER,
  IMPORT_JOB_PATHS,
  ImportJobPage,
  ImportJobProgress,
  importJobProgressSchema,
  listImportJobsDataSchema,
} from "./import-schemas";
import type { RestClient } from "./rest";
import type { z } from "zod";

/** A create request as a caller writes it: unset fields may be left out. */
export type CreateImportJobInput = z.input<typeof createImportJobRequestSchema>;

/** Which deployment a job call addresses: a cluster, or a project database (never both). */
export type ImportTarget = { clusterId: string } | { projectId: string; regionId: string };

export interface ListImportJobsQuery {
  collectionName?: string;
  dbName?: string;
  pageSize?: number;
  currentPage?: number;
}

/**
 * True when the answer says the call itself does not exist (an unknown
 * path), as opposed to the job: an HTTP 404 or a message about the path
 * or route, that does not speak of a job.
 */
function isMissingCall(err: unknown): boolean {
  if (!(err instanceof ZillizApiError)) return false;
  // A missing job, cluster or collection may come as a 404 too (services
  // that answer errors with HTTP statuses): that is not a missing call.
  if (/\b(job|cluster|collection|database|partition|volume|stage)\b/i.test(err.apiMessage)) return false;
  return err.status === 404 || (NOT_FOUND_MESSAGE.test(err.apiMessage) && /\b(path|route|url|no such call)\b/i.test(err.apiMessage));
}

export class ImportJobClient {
  /**
   * Progress has three names: `describe` (pymilvus, the Java SDK,
   * self-hosted Milvus), `get_progress` (the Node SDK) and `getProgress`
   * (the REST reference). Asked in that order; once a service says a name
   * does not exist, this client skips it from then on.
   */
  private progressPaths: readonly string[] = [IMPORT_JOB_PATHS.describe, IMPORT_JOB_PATHS.getProgressSnake, IMPORT_JOB_PATHS.getProgress];

  constructor(private readonly rest: RestClient) {}

  /**
   * Starts a job and returns its id. The database goes both in the body
   * (`dbName`, older SDKs) and in the `DB-Name` header (newer ones). Retried
   * only when the failure shows no job was started (throttled, unavailable,
   * never connected): a second job would import the rows twice.
   */
  async create(req: CreateImportJobInput): Promise<string> {
    const { jobId } = await this.rest.call({
      call: "import create",
      method: "POST",
      path: IMPORT_JOB_PATHS.create,
      body: req,
      headers: req.dbName ? { [DB_NAME_HEADER]: req.dbName } : undefined,
      data: createImportJobDataSchema,
      idempotent: false,
    });
    return jobId;
  }

  /** The job's state, progress, row counts and per-file details. */
  async progress(target: ImportTarget, jobId: string): Promise<ImportJobProgress> {
    const ask = (path: string) =>
      this.rest.call({ call: "import progress", method: "POST", path, body: { ...target, jobId }, data: importJobProgressSchema });
    while (this.progressPaths.length > 1) {
      try {
        return await ask(this.progressPaths[0]);
      } catch (err) {
        if (!isMissingCall(err)) throw err;
        this.progressPaths = this.progressPaths.slice(1);
      }
    }
    return ask(this.progressPaths[0]);
  }

  /** One page of the jobs of a cluster (or project database), newest first. */
  list(target: ImportTarget, query: ListImportJobsQuery = {}): Promise<ImportJobPage> {
    return this.rest.call({
      call: "import list",
      method: "POST",
      path: IMPORT_JOB_PATHS.list,
      body: { ...target, ...query },
      headers: query.dbName ? { [DB_NAME_HEADER]: query.dbName } : undefined,
      data: listImportJobsDataSchema,
    });
  }
}
