/**
 * The one retry policy of this package, for the REST API and the object
 * store alike: what is transient (`classifyFailure`), how long to wait
 * (`backoffDelay`), and the loop that applies both (`withRetry`). Throttling,
 * 5xx, resets, refusals and timeouts are retried; everything else (4xx, TLS
 * and certificate errors, anything not recognised) fails at once, because
 * another attempt would fail the same way.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 20_000 };

/**
 * Seconds or an HTTP date, as in a Retry-After header, to milliseconds from
 * `now`; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with full jitter (attempt 1 is the first retry). A
 * server's Retry-After wins over the computed delay, capped by maxDelayMs so
 * a misbehaving server cannot park us for an hour.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** What one failure means for the next attempt. */
export type FailureClass =
  | {
      transient: true;
      /** The server asked for this wait (Retry-After). */
      retryAfterMs?: number;
      /** The credentials were refused as expired: renew them and retry at once. */
      renewCredentials?: boolean;
    }
  | {
      transient: false;
      /** For a configuration error (TLS, certificates): what the user must change. */
      fix?: string;
      /** The network error code that decided it, e.g. `ERR_SSL_WRONG_VERSION_NUMBER`. */
      networkCode?: string;
    };

/** What is known about a failure: an HTTP status, a service or network code, the error chain. */
export interface Failure {
  status?: number;
  /** A service error code (`SlowDown`, `ExpiredToken`...) or a network one (`ECONNRESET`). */
  code?: string;
  retryAfterMs?: number;
  /** The underlying error, whose `cause` chain is searched for network codes. */
  cause?: unknown;
}

/** Connection-level failures: the request may never have reached the server. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "TimeoutError",
  "RequestTimeout",
]);

/** Throttling and transient server-side failures, whatever the status says (S3 names them). */
const TRANSIENT_SERVICE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeTooSkewed",
  // The body the store received is not what was sent (its checksum or
  // signed SHA-256 says so): changed in transit. The bytes were verified
  // against the plan before they left, so sending them again is right.
  "BadDigest",
  "XAmzContentSHA256Mismatch",
]);

/**
 * The store says the token is no good: apply again and retry at once. GCS
 * answers an expired access token with 401 AuthenticationRequired.
 */
const EXPIRED_CREDENTIAL_CODES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidToken",
  "InvalidAccessKeyId",
  "TokenRefreshRequired",
  "AuthenticationRequired",
]);

const PLAIN_HTTP_FIX =
  "the endpoint speaks plain http, not https: use http:// for the emulator on 127.0.0.1/localhost, or check the URL";

/** TLS and certificate failures: configuration, never transient. Undefined when `code` is not one. */
function tlsFix(code: string, message: string): string | undefined {
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || (code === "EPROTO" && /wrong version number|packet length too long/i.test(message))) {
    return PLAIN_HTTP_FIX;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "the server's TLS certificate is for another host name: check the endpoint URL";
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return `the server's TLS certificate is not trusted (${code}): check the endpoint URL, or give Node.js the CA with NODE_EXTRA_CA_CERTS`;
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO") {
    return `the TLS handshake failed (${code}): check that the endpoint URL is right and serves https`;
  }
  return undefined;
}

/**
 * The one place that decides what is transient. Service codes first (S3
 * names throttling and expiry), then the HTTP status, then the network error
 * codes along the `cause` chain. Anything unrecognised is not retried.
 */
export function classifyFailure(failure: Failure): FailureClass {
  const { status, code, retryAfterMs } = failure;
  if (code !== undefined) {
    if (EXPIRED_CREDENTIAL_CODES.has(code)) return { transient: true, renewCredentials: true };
    if (TRANSIENT_SERVICE_CODES.has(code) || TRANSIENT_NETWORK_CODES.has(code)) return { transient: true, retryAfterMs };
  }
  if (status !== undefined) {
    // 501 Not Implemented will not be implemented by the next attempt.
    return status === 429 || (status >= 500 && status !== 501) ? { transient: true, retryAfterMs } : { transient: false };
  }
  for (let e = failure.cause as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    const message = typeof e.message === "string" ? e.message : "";
    if (typeof e.code === "string") {
      const fix = tlsFix(e.code, message);
      if (fix) return { transient: false, fix, networkCode: e.code };
      if (TRANSIENT_NETWORK_CODES.has(e.code)) return { transient: true };
    }
    if (e.name === "TimeoutError" || e.name === "AbortError") return { transient: true };
  }
  if (code !== undefined) {
    // The AWS SDK keeps only a wrapper's text ("... EPROTO ... wrong version number"): read it too.
    const fix = tlsFix(code, typeof (failure.cause as Error | undefined)?.message === "string" ? (failure.cause as Error).message : "");
    if (fix) return { transient: false, fix, networkCode: code };
  }
  return { transient: false };
}

/** Connection failures before a byte of the request was sent. */
const NOT_SENT_NETWORK_CODES = new Set(["ECONNREFUSED", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Whether a failed request certainly did nothing, so that even a call that
 * must not run twice (starting an import job) may be repeated: the server
 * said it was throttled (429) or unavailable (503), or the connection was
 * never made. A 500, a reset or a timeout may come after the work was done.
 */
export function certainlyNotDone(failure: Failure): boolean {
  if (failure.status === 429 || failure.status === 503) return true;
  if (failure.status !== undefined) return false;
  for (let e = failure.cause as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.code === "string" && NOT_SENT_NETWORK_CODES.has(e.code)) return true;
  }
  return false;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Reads a failure of `attempt`; usually `classifyFailure` of what the error carries. */
  classify(err: unknown): FailureClass;
  /** Called before each further attempt (after the wait), e.g. to renew credentials or note a retry. */
  beforeRetry?(err: unknown, failure: FailureClass & { transient: true }, attempt: number): void;
  /** True ends the retries early (the run is already failing elsewhere). */
  shouldStop?(): boolean;
  /**
   * The error the caller sees for the last failure. `attempts` is set when
   * the failure was transient and the attempts ran out (not when stopped).
   */
  giveUp?(err: unknown, info: { attempts?: number; failure: FailureClass }): unknown;
}

/** Runs `attempt` (1, 2, ...) until it succeeds or a failure is final. */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const failure = options.classify(err);
      const exhausted = failure.transient && n >= policy.maxAttempts;
      if (!failure.transient || exhausted || options.shouldStop?.()) {
        throw options.giveUp ? options.giveUp(err, { attempts: exhausted ? n : undefined, failure }) : err;
      }
      if (!failure.renewCredentials) await sleep(backoffDelay(n, policy, failure.retryAfterMs));
      options.beforeRetry?.(err, failure, n + 1);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
