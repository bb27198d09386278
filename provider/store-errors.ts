/**
 * The errors of moving bytes: the object store refused or failed a request,
 * an upload stopped part-way, a file could not be hashed or changed under
 * the plan. Part of the family errors.ts re-exports.
 */
import { attemptsNote, ERROR_CODES, ZillizStageError } from "./error-base";

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
