/**
 * The object store side: a client built from the apply answer that draws
 * its credentials from the run's cache, and retries that know which S3
 * failures are worth another try.
 *
 * The client is @aws-sdk/client-s3: AWS's own, maintained, SigV4 with
 * session tokens, keep-alive, and every operation we need. Its own retries
 * are off (maxAttempts 1) because we retry whole requests ourselves, after
 * renewing credentials when they expired, so attempts never multiply.
 */
import * as http from "node:http";
import * as https from "node:https";
import { isIP } from "node:net";
import type * as S3Sdk from "@aws-sdk/client-s3";
import type * as SmithyHttpHandler from "@smithy/node-http-handler";
import { backoffDelay, isRetryableNetworkCode, isRetryableNetworkError, parseRetryAfter, RetryPolicy, sleep } from "../client/retry";
import { isLoopback } from "../client/stage-client";
import type { StageUploadTarget } from "../client/schemas";
import { ZillizValidationError } from "../errors";
import type { UploadTargetCache } from "./credentials";

/** The endpoint of an apply answer as a URL: https:// when it has no scheme; plain http only for loopback. */
export function s3EndpointUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
  } catch {
    throw new ZillizValidationError("endpoint", `the object store endpoint ${JSON.stringify(endpoint)} from the apply answer is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ZillizValidationError("endpoint", `the object store endpoint ${url.origin} uses ${url.protocol}; only https is accepted`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new ZillizValidationError(
      "endpoint",
      `the object store ${url.host} was offered over plain http; only https is accepted outside 127.0.0.1/localhost/::1`,
    );
  }
  return url;
}

export interface S3ClientOptions {
  /** Sockets kept open; match the number of requests in flight. */
  maxSockets: number;
  /** Socket inactivity timeout: a request whose socket is silent this long fails (and is retried). */
  requestTimeoutMs: number;
}

/**
 * The AWS SDK, loaded on first use (require caches it): an upload of small
 * files never needs it, and loading it costs every process a tenth of a
 * second of start-up.
 */
export function s3Sdk(): typeof S3Sdk {
  return require("@aws-sdk/client-s3");
}

/** Where requests go: the endpoint, and whether the bucket goes in the path or the host name. */
export function s3Addressing(endpoint: string): { url: URL; pathStyle: boolean } {
  const url = s3EndpointUrl(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // Virtual-hosted buckets need DNS names; an IP or localhost cannot have them.
  return { url, pathStyle: isLoopback(host) || isIP(host) !== 0 };
}

/** An S3 client for the store an apply answer points at, drawing credentials from `targets`. */
export function createS3Client(first: StageUploadTarget, targets: UploadTargetCache, options: S3ClientOptions): S3Sdk.S3Client {
  const { S3Client } = s3Sdk();
  const { NodeHttpHandler } = require("@smithy/node-http-handler") as typeof SmithyHttpHandler;
  const { url, pathStyle } = s3Addressing(first.endpoint);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  return new S3Client({
    endpoint: url.origin,
    region: first.region,
    forcePathStyle: pathStyle,
    // The SDK caches an identity until 5 minutes before its expiration. We
    // report an expiration inside that window so it asks on every request,
    // and our cache (which knows when the store refused a token) stays the
    // one place that decides when to apply again.
    credentials: async () => {
      const t = await targets.get();
      return {
        accessKeyId: t.credentials.tmpAK,
        secretAccessKey: t.credentials.tmpSK,
        sessionToken: t.credentials.sessionToken,
        expiration: new Date(Math.min(Date.parse(t.credentials.expireTime) || 0, Date.now() + 60_000)),
      };
    },
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      // An inactivity timeout, not a deadline: a big part on a slow link may
      // take minutes, but a socket silent this long is dead. (requestTimeout
      // is a whole-request deadline in this handler, and only logs a warning.)
      socketTimeout: options.requestTimeoutMs,
      connectionTimeout: Math.min(10_000, options.requestTimeoutMs),
    }),
  });
}

/** The store says the token is no good: apply again and retry at once. */
const EXPIRED_TOKEN = new Set(["ExpiredToken", "ExpiredTokenException", "InvalidToken", "InvalidAccessKeyId", "TokenRefreshRequired"]);
/** Throttling and transient server-side failures, whatever the status says. */
const RETRYABLE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "TimeoutError",
]);

/**
 * When the SDK meets an error object from another JavaScript realm (jest's
 * sandbox, a vm context), `instanceof Error` fails and it keeps only the
 * string "AWS SDK error wrapper for TimeoutError: socket hang up". The name
 * in that string is all that is left to classify it by.
 */
const SDK_WRAPPER = /^AWS SDK error wrapper for ([A-Za-z_][\w]*)(:|$)/;

/** The S3 error code of a failure, e.g. "AccessDenied", or the network error code. */
export function s3ErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string; message?: unknown } | undefined;
  if (e?.Code) return e.Code;
  const wrapped = typeof e?.message === "string" ? SDK_WRAPPER.exec(e.message) : null;
  // A plain Error inside the wrapper is a network failure: its errno code is the useful part.
  if (wrapped) return (wrapped[1] === "Error" && /\b(E[A-Z]{3,})\b/.exec(e!.message as string)?.[1]) || wrapped[1];
  if (e?.name && e.name !== "Error" && e.name !== "Unknown") return e.name;
  if (typeof e?.code === "string") return e.code;
  const status = httpStatus(err);
  return status ? `HTTP ${status}` : e?.name ?? "UnknownError";
}

/** "<code>: <message>" for a user, without the SDK's wrapper text. */
export function describeS3Error(err: unknown): string {
  const raw = typeof (err as Error)?.message === "string" ? (err as Error).message : String(err);
  const text = raw.replace(/^AWS SDK error wrapper for [A-Za-z_]\w*:\s*/, "");
  const code = s3ErrorCode(err);
  return text.startsWith(code) ? text : `${code}: ${text}`;
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { $response?: { headers?: Record<string, string> } })?.$response?.headers;
  return headers ? parseRetryAfter(headers["retry-after"] ?? headers["Retry-After"]) : undefined;
}

/** Does another attempt stand a chance, and does it need fresh credentials first? */
export function classifyS3Error(err: unknown): { retryable: boolean; expiredToken: boolean } {
  const code = s3ErrorCode(err);
  const status = httpStatus(err);
  const expiredToken = EXPIRED_TOKEN.has(code);
  const retryable =
    expiredToken || RETRYABLE_CODES.has(code) || isRetryableNetworkCode(code) || isRetryableNetworkError(err) || (status !== undefined && (status >= 500 || status === 429));
  return { retryable, expiredToken };
}

export type S3RetryPolicy = RetryPolicy;

/**
 * Runs one S3 request with retries: network errors, timeouts, throttling and
 * 5xx after an exponential backoff with jitter (or the server's
 * Retry-After); an expired or unknown token at once, with fresh credentials.
 * `shouldStop` ends the retries early when the run is already failing.
 */
export async function withS3Retry<T>(
  targets: UploadTargetCache,
  policy: S3RetryPolicy,
  fn: () => Promise<T>,
  shouldStop: () => boolean = () => false,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const used = await targets.get();
    try {
      return await fn();
    } catch (err) {
      const { retryable, expiredToken } = classifyS3Error(err);
      if (!retryable || attempt >= policy.maxAttempts || shouldStop()) {
        // Not `instanceof Error`: errors from another realm (a vm, jest) are errors too.
        if (retryable && attempt >= policy.maxAttempts && typeof (err as Error)?.message === "string") {
          (err as Error).message = `${(err as Error).message} (gave up after ${attempt} attempts)`;
        }
        throw err;
      }
      if (expiredToken) targets.invalidate(used);
      else await sleep(backoffDelay(attempt, policy, retryAfterMs(err)));
    }
  }
}
