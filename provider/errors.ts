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

import { attemptsNote, ERROR_CODES, ZillizStageError } from "./error-base";

export { ERROR_CODES, ZillizStageError } from "./error-base";
export type { ZillizErrorCode } from "./error-base";
export * from "./store-errors";
export * from "./job-errors";

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
