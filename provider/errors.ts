/**
 * The error family of this package. Every error a user can see is one of
 * these; each has a stable `code` to branch on (like undici's `UND_ERR_*`),
 * its message says what failed and what to do about it, and none of them
 * ever carries the API key or temporary storage credentials.
 *
 * Messages are written once, by the constructor: an error that gave up after
 * retries is a new error (`attempts` set, the last failure as `cause`), never
 * an old one with its message edited.
 */

/** Every `code` this package's errors carry. */
export const ERROR_CODES = {
  api: "ZILLIZ_ERR_API",
  validation: "ZILLIZ_ERR_VALIDATION",
  transport: "ZILLIZ_ERR_TRANSPORT",
  tls: "ZILLIZ_ERR_TLS",
  store: "ZILLIZ_ERR_STORE",
  upload: "ZILLIZ_ERR_UPLOAD",
  hash: "ZILLIZ_ERR_HASH",
  fileChanged: "ZILLIZ_ERR_FILE_CHANGED",
  import: "ZILLIZ_ERR_IMPORT",
  merge: "ZILLIZ_ERR_MERGE",
  stopped: "ZILLIZ_ERR_STOPPED",
} as const;
export type ZillizErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** " (gave up after N attempts)" when a retried request failed for good. */
function attemptsNote(attempts: number | undefined): string {
  if (attempts === undefined) return "";
  return ` (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`;
}

/** Base class: lets callers catch everything this package throws in one place. */
export abstract class ZillizStageError extends Error {
  /** Stable, machine-readable: e.g. `ZILLIZ_ERR_API`. */
  abstract readonly code: ZillizErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Which REST call failed, e.g. `create` or `apply`; new endpoints add their own names. */
export type ApiCall = string;

export interface ApiErrorInit {
  /** HTTP status of the response. */
  status: number;
  /** `code` from the response envelope (the HTTP status when the body had none). */
  apiCode: number;
  /** `message` from the response envelope. */
  apiMessage: string;
  call: ApiCall;
  /** The service's id for the request (`x-request-id` or `requestId` in the envelope). */
  requestId?: string;
  /** What the server asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number;
  /** What to do about it. */
  hint?: string;
  /** Set when the request was retried and this is the last failure. */
  attempts?: number;
  cause?: unknown;
}

/**
 * The Zilliz Cloud API answered, and the answer was an error: an HTTP status
 * other than 200, or an envelope whose `code` is neither 0 nor 200.
 */
export class ZillizApiError extends ZillizStageError {
  readonly code = ERROR_CODES.api;
  readonly status: number;
  /** The service's numeric code from the envelope. */
  readonly apiCode: number;
  readonly apiMessage: string;
  readonly call: ApiCall;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly hint?: string;
  readonly attempts?: number;

  constructor(init: ApiErrorInit) {
    const hint = init.hint ? ` ${init.hint}` : "";
    const id = init.requestId ? ` [request id ${init.requestId}]` : "";
    super(
      `Zilliz Cloud ${init.call} failed (HTTP ${init.status}, code ${init.apiCode}): ${init.apiMessage}.${hint}${id}${attemptsNote(init.attempts)}`,
      { cause: init.cause },
    );
    this.status = init.status;
    this.apiCode = init.apiCode;
    this.apiMessage = init.apiMessage;
    this.call = init.call;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.hint = init.hint;
    this.attempts = init.attempts;
  }

  /** The same answer, with another hint or as the last of `attempts`; the original becomes the cause. */
  with(changes: Pick<ApiErrorInit, "hint" | "attempts">): ZillizApiError {
    return new ZillizApiError({ ...this.init(), ...changes, cause: this });
  }

  private init(): ApiErrorInit {
    const { status, apiCode, apiMessage, call, requestId, retryAfterMs, hint, attempts } = this;
    return { status, apiCode, apiMessage, call, requestId, retryAfterMs, hint, attempts };
  }
}

/** An input, a config value or a file on disk is not acceptable. */
export class ZillizValidationError extends ZillizStageError {
  readonly code = ERROR_CODES.validation;
  /** The input, config key or path that is wrong, e.g. `stageName` or `zillizcloud:apiKey`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * The request never got an answer: connection refused or reset, DNS,
 * timeout. Whether another attempt could help is retry.ts's decision.
 */
export class ZillizTransportError extends ZillizStageError {
  readonly code: typeof ERROR_CODES.transport | typeof ERROR_CODES.tls = ERROR_CODES.transport;
  /** What was being attempted, e.g. `create` or `upload data/1.parquet`. */
  readonly operation: string;
  /** What happened, without the operation in front. */
  readonly detail: string;
  readonly attempts?: number;

  constructor(operation: string, detail: string, options?: { cause?: unknown; attempts?: number }) {
    super(`${operation}: ${detail}${attemptsNote(options?.attempts)}`, options);
    this.operation = operation;
    this.detail = detail;
    this.attempts = options?.attempts;
  }
}

/**
 * The TLS handshake failed: a configuration error (an https URL on a plain
 * http server, an untrusted or mismatched certificate), never retried.
 */
export class ZillizTlsError extends ZillizTransportError {
  override readonly code = ERROR_CODES.tls;
}

export interface StoreErrorInit {
  /** What was being attempted, e.g. `PutObject data/1.parquet`. */
  operation: string;
  /** The store's error code (`SlowDown`, `AccessDenied`...) or the network error's. */
  storeCode: string;
  /** "<code>: <message>" as the store said it, credentials removed. */
  description: string;
  status?: number;
  /** `x-amz-request-id` of the answer. */
  requestId?: string;
  retryAfterMs?: number;
  attempts?: number;
  cause?: unknown;
}

/** The object store (S3) refused or failed a request with the stage's temporary credentials. */
export class ZillizStoreError extends ZillizStageError {
  readonly code = ERROR_CODES.store;
  readonly operation: string;
  readonly storeCode: string;
  readonly status?: number;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly attempts?: number;

  constructor(init: StoreErrorInit) {
    const id = init.requestId ? ` [request id ${init.requestId}]` : "";
    super(`${init.description}${id}${attemptsNote(init.attempts)}`, { cause: init.cause });
    this.operation = init.operation;
    this.storeCode = init.storeCode;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts;
  }
}

/**
 * Moving bytes into the stage failed. `completed` lists the files that did
 * arrive before the failure, so a caller can record them and a rerun sends
 * only what is missing.
 */
export class ZillizUploadError extends ZillizStageError {
  readonly code = ERROR_CODES.upload;
  /** Relative paths (manifest keys) that were uploaded and verified before the failure. */
  readonly completed: readonly string[];
  /** Relative paths deleted remotely before the failure. */
  readonly deleted: readonly string[];

  constructor(message: string, init: { completed: readonly string[]; deleted: readonly string[]; cause?: unknown }) {
    super(message, { cause: init.cause });
    this.completed = init.completed;
    this.deleted = init.deleted;
  }
}

/** A file could not be hashed. */
export class ZillizHashError extends ZillizStageError {
  readonly code = ERROR_CODES.hash;

  constructor(
    /** The file. */
    readonly path: string,
    /** The errno code (`EACCES`...), or `ENOTREG` for a file that is not a regular file. */
    readonly errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** A local file no longer matches the manifest the plan was made from; nothing was stored for it. */
export class ZillizFileChangedError extends ZillizStageError {
  readonly code = ERROR_CODES.fileChanged;

  constructor(
    /** The manifest key (relative path). */
    readonly path: string,
    expected: { size: number; sha256: string },
    found: string,
  ) {
    super(
      `${path} changed since it was scanned (expected ${expected.size} bytes, sha256 ${expected.sha256}; found ${found}); ` +
        `nothing was stored for it. Run again to upload the new content.`,
    );
  }
}

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

/**
 * The provider process was told to stop (SIGINT, SIGTERM) or its engine went
 * away, so the work in hand was abandoned: no new request was started and
 * every multipart upload in flight was aborted.
 */
export class ZillizStoppedError extends ZillizStageError {
  readonly code = ERROR_CODES.stopped;

  constructor(
    /** What stopped it: `SIGTERM`, `SIGINT`, or `the engine exited`. */
    readonly reason: string,
  ) {
    super(`the provider was stopped (${reason}) before the work was done; run \`pulumi up\` again to finish it`);
  }
}
