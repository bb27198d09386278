/**
 * The S3 side of an upload: temporary credentials that renew themselves, a
 * client built from the apply answer, and retries that know which S3
 * failures are worth another try.
 *
 * The client is @aws-sdk/client-s3: AWS's own, maintained, SigV4 with
 * session tokens, keep-alive, and every operation we need. Its retries are
 * off (maxAttempts 1) because we retry whole requests ourselves, after
 * renewing credentials when they expired, so attempts never multiply.
 */
import * as http from "node:http";
import * as https from "node:https";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { isLoopback } from "../client/stage-client";
import { backoffDelay, isRetryableNetworkError, sleep } from "../client/retry";
import type { StageUploadTarget } from "../client/schemas";
import { ZillizValidationError } from "../errors";

/** Anything that can answer an apply call; StageClient is one. */
export interface UploadTargetSource {
  applyUploadTarget(req: { stageName: string; path: string }): Promise<StageUploadTarget>;
}

/**
 * The current apply answer, renewed before `expireTime` (minus a margin) and
 * on demand after the store says the token expired. Concurrent callers share
 * one apply call.
 */
export class UploadTargetCache {
  private current?: { target: StageUploadTarget; refreshAt: number };
  private inflight?: Promise<StageUploadTarget>;
  /** How many apply calls this run made. */
  applies = 0;

  constructor(
    private readonly source: UploadTargetSource,
    private readonly request: { stageName: string; path: string },
    private readonly refreshMarginMs?: number,
  ) {}

  async get(): Promise<StageUploadTarget> {
    if (this.current && Date.now() < this.current.refreshAt) return this.current.target;
    return this.renew();
  }

  /** Forget the current credentials (the store refused them). */
  invalidate(target: StageUploadTarget): void {
    if (this.current?.target === target) this.current = undefined;
  }

  private renew(): Promise<StageUploadTarget> {
    this.inflight ??= this.source
      .applyUploadTarget(this.request)
      .then((target) => {
        this.applies++;
        const now = Date.now();
        const expires = Date.parse(target.credentials.expireTime);
        const margin = this.refreshMarginMs ?? Math.min(60_000, Math.max(0, (expires - now) / 4));
        this.current = { target, refreshAt: expires - margin };
        return target;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}

/** The endpoint of an apply answer as a URL; plain http only for loopback. */
export function s3EndpointUrl(endpoint: string): URL {
  const url = new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new ZillizValidationError("endpoint", `the object store ${url.host} was offered over plain http; only https is accepted outside 127.0.0.1/localhost`);
  }
  return url;
}

export interface S3ClientOptions {
  /** Sockets kept open; match the number of requests in flight. */
  maxSockets: number;
  /** Socket inactivity timeout. */
  requestTimeoutMs: number;
}

/** An S3 client for the store an apply answer points at, drawing credentials from `targets`. */
export function createS3Client(first: StageUploadTarget, targets: UploadTargetCache, options: S3ClientOptions): S3Client {
  const url = s3EndpointUrl(first.endpoint);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  return new S3Client({
    endpoint: url.origin,
    region: first.region,
    // Virtual-hosted buckets need DNS; an IP or localhost cannot have them.
    forcePathStyle: isLoopback(url.hostname) || /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname),
    // The SDK caches an identity until 5 minutes before its expiration. We
    // report an expiration inside that window so it asks again on every
    // request, and our cache (which knows when the store refused a token)
    // stays the one place that decides when to apply again.
    credentials: async () => {
      const t = await targets.get();
      return {
        accessKeyId: t.credentials.tmpAK,
        secretAccessKey: t.credentials.tmpSK,
        sessionToken: t.credentials.sessionToken,
        expiration: new Date(Math.min(Date.parse(t.credentials.expireTime), Date.now() + 60_000)),
      };
    },
    maxAttempts: 1,
    // "Expect: 100-continue" costs a round trip per request, which dominates
    // small files; our bodies are at most one part, so a refusal wastes little.
    expectContinueHeader: false,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      requestTimeout: options.requestTimeoutMs,
      connectionTimeout: 10_000,
    }),
  });
}

const EXPIRED_TOKEN = new Set(["ExpiredToken", "InvalidToken", "InvalidAccessKeyId", "TokenRefreshRequired", "ExpiredTokenException"]);
const RETRYABLE_CODES = new Set(["SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "TimeoutError"]);

/** The S3 error code of a failure, e.g. "AccessDenied", or the network error code. */
export function s3ErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.Code ?? (e?.name && e.name !== "Error" ? e.name : undefined) ?? e?.code ?? "UnknownError";
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export interface RetryOptions {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Runs one S3 request with retries: network errors, throttling and 5xx after
 * a backoff; an expired or unknown token at once, with fresh credentials.
 */
export async function withS3Retry<T>(
  targets: UploadTargetCache,
  retry: RetryOptions,
  fn: () => Promise<T>,
  shouldStop: () => boolean = () => false,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const used = await targets.get();
    try {
      return await fn();
    } catch (err) {
      const code = s3ErrorCode(err);
      const httpStatus = status(err);
      const expired = EXPIRED_TOKEN.has(code);
      const retryable =
        expired || RETRYABLE_CODES.has(code) || isRetryableNetworkError(err) || (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429));
      if (!retryable || attempt >= retry.maxAttempts || shouldStop()) {
        if (retryable && attempt >= retry.maxAttempts) {
          (err as Error).message = `${(err as Error).message} (gave up after ${attempt} attempts)`;
        }
        throw err;
      }
      if (expired) targets.invalidate(used);
      else await sleep(backoffDelay(attempt, retry));
    }
  }
}
