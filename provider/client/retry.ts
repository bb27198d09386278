/**
 * When to try a request again, and how long to wait first. Pure functions:
 * the client and the upload engine share them, and tests check them without
 * a clock.
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

/** HTTP statuses worth another try: throttling and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

const RETRYABLE_CODES = new Set([
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
]);

/** An errno or undici code that means the connection, not the request, failed. */
export function isRetryableNetworkCode(code: string): boolean {
  return RETRYABLE_CODES.has(code);
}

/** Network-level failures: the request may not have reached the server. */
export function isRetryableNetworkError(err: unknown): boolean {
  for (let e: any = err; e; e = e.cause) {
    if (typeof e.code === "string" && RETRYABLE_CODES.has(e.code)) return true;
    if (e.name === "TimeoutError" || e.name === "AbortError") return true;
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
