/**
 * The error family of this package. Every error a user can see is one of
 * these; each message says what failed and what to do about it, and none of
 * them ever carries the API key or temporary storage credentials.
 */

/** Base class: lets callers catch everything this package throws in one place. */
export class ZillizStageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Which REST call failed, for messages and for retry decisions. */
export type StageCall = "create" | "list" | "delete" | "apply";

/**
 * The Zilliz Cloud API answered, and the answer was an error: an HTTP status
 * other than 200, or an envelope whose `code` is neither 0 nor 200.
 */
export class ZillizApiError extends ZillizStageError {
  /** HTTP status of the response. */
  readonly status: number;
  /** `code` from the response envelope (the HTTP status when the body had none). */
  readonly code: number;
  /** `message` from the response envelope. */
  readonly apiMessage: string;
  /** The call that failed, e.g. `create`. */
  readonly call: StageCall;

  constructor(init: { status: number; code: number; apiMessage: string; call: StageCall; hint?: string }) {
    const hint = init.hint ? ` ${init.hint}` : "";
    super(`Zilliz Cloud ${init.call} failed (HTTP ${init.status}, code ${init.code}): ${init.apiMessage}.${hint}`);
    this.status = init.status;
    this.code = init.code;
    this.apiMessage = init.apiMessage;
    this.call = init.call;
  }
}

/** An input, a config value or a file on disk is not acceptable. */
export class ZillizValidationError extends ZillizStageError {
  /** The input, config key or path that is wrong, e.g. `stageName` or `zillizcloud:apiKey`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** The request never got an answer: connection refused or reset, DNS, TLS, timeout. */
export class ZillizTransportError extends ZillizStageError {
  /** What was being attempted, e.g. `create` or `upload data/1.parquet`. */
  readonly operation: string;

  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super(`${operation}: ${message}`, options);
    this.operation = operation;
  }
}

/**
 * Moving bytes into the stage failed. `completed` lists the files that did
 * arrive before the failure, so a caller can record them and a rerun sends
 * only what is missing.
 */
export class ZillizUploadError extends ZillizStageError {
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
