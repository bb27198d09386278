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
import type { StageUploadTarget } from "../client/schemas";
import { isLoopback, parseEndpoint } from "../endpoint";
import { ZillizStageError, ZillizStoreError, ZillizTlsError, ZillizTransportError } from "../errors";
import { classifyFailure, DEFAULT_RETRY, FailureClass, parseRetryAfter, RetryPolicy, withRetry } from "../retry";
import type { UploadTargetCache } from "./credentials";

export interface S3ClientOptions {
  /** Sockets kept open; match the number of requests in flight. Default 16. */
  maxSockets?: number;
  /** Socket inactivity timeout: a request whose socket is silent this long fails (and is retried). Default 60 s. */
  requestTimeoutMs?: number;
  /** Where each request's credentials come from; default: the apply answer's own, as they are. */
  targets?: UploadTargetCache;
}

/**
 * The AWS SDK, loaded on first use (require caches it), so a process that
 * only plans (check, diff, preview) never pays its tenth of a second of
 * start-up.
 */
export function s3Sdk(): typeof S3Sdk {
  return require("@aws-sdk/client-s3");
}

/**
 * Alibaba Cloud OSS: the SDKs replace the answer's endpoint by the region's
 * OSS endpoint (`oss-<region>.aliyuncs.com`, or `-internal` from inside
 * Alibaba Cloud; pymilvus probes the internal one first, we take the public
 * one, which works from anywhere).
 */
export function ossEndpoint(region: string, internal = false): string {
  return `oss-${region}${internal ? "-internal" : ""}.aliyuncs.com`;
}

/** Where requests go: the endpoint, and whether the bucket goes in the path or the host name. */
export function s3Addressing(target: Pick<StageUploadTarget, "endpoint" | "cloud" | "region">): { url: URL; pathStyle: boolean } {
  const endpoint = target.cloud === "ali" ? ossEndpoint(target.region) : target.endpoint;
  // The apply answer gives host[:port] without a scheme; the SDKs always speak https to it.
  const url = parseEndpoint(endpoint, { bareHost: true, example: "an https endpoint of the object store" });
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // Virtual-hosted buckets need DNS names; an IP or localhost cannot have
  // them. Like minio-py, only AWS and Aliyun hosts get virtual hosting.
  const virtualHost = target.cloud === undefined || target.cloud === "aws" || target.cloud === "ali";
  return { url, pathStyle: !virtualHost || isLoopback(host) || isIP(host) !== 0 };
}

/** Headers of a SigV4 signature, which a request with a Bearer token must not carry. */
const SIGV4_HEADERS = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

/**
 * Google Cloud volumes: the session token is an OAuth access token, sent as
 * `Authorization: Bearer` to the GCS XML API (which speaks S3's shapes for
 * objects and multipart uploads), with no SigV4.
 */
export function bearerHeaders(headers: Record<string, string>, sessionToken: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!SIGV4_HEADERS.includes(k.toLowerCase())) out[k] = v;
  out.authorization = `Bearer ${sessionToken}`;
  return out;
}

/**
 * An S3 client for the store an apply answer points at (the one place such
 * a client is built: the engine, the tests and the bench use it), drawing
 * credentials from `options.targets` when given.
 */
export function createS3Client(first: StageUploadTarget, options: S3ClientOptions = {}): S3Sdk.S3Client {
  const { S3Client } = s3Sdk();
  const { NodeHttpHandler } = require("@smithy/node-http-handler") as typeof SmithyHttpHandler;
  const { url, pathStyle } = s3Addressing(first);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16 };
  const targets = options.targets;
  const client = new S3Client({
    endpoint: url.origin,
    region: first.region,
    forcePathStyle: pathStyle,
    // The SDK caches an identity until 5 minutes before its expiration. We
    // report an expiration inside that window so it asks on every request,
    // and our cache (which knows when the store refused a token) stays the
    // one place that decides when to apply again.
    credentials: async () => {
      const t = targets ? await targets.get() : first;
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
      socketTimeout: requestTimeoutMs,
      connectionTimeout: Math.min(10_000, requestTimeoutMs),
    }),
  });
  if (first.cloud === "gcp") useBearerToken(client, async () => (targets ? await targets.get() : first).credentials.sessionToken);
  return client;
}

/**
 * Sends the client's requests with `Authorization: Bearer <token>` instead
 * of their SigV4 signature, whenever `token` gives one (undefined: signed as
 * usual). Signed as usual, then the signature swapped for the token: the
 * one place the SDK lets us change how a request is authenticated.
 */
export function useBearerToken(client: S3Sdk.S3Client, token: () => Promise<string | undefined>): void {
  client.middlewareStack.addRelativeTo(
    ((next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      const request = args.request as { headers: Record<string, string> };
      const t = await token();
      if (t !== undefined) request.headers = bearerHeaders(request.headers, t);
      return next(args);
    }) as unknown as Parameters<typeof client.middlewareStack.addRelativeTo>[0],
    { name: "zillizBearerToken", relation: "after", toMiddleware: "httpSigningMiddleware" },
  );
}

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
function describeS3Error(err: unknown): string {
  const raw = typeof (err as Error)?.message === "string" ? (err as Error).message : String(err);
  const text = raw.replace(/^AWS SDK error wrapper for [A-Za-z_]\w*:\s*/, "");
  const code = s3ErrorCode(err);
  const described = text.startsWith(code) ? text : `${code}: ${text}`;
  // S3 quotes what it signed: the one clue to a signing bug (a proxy that
  // rewrote a header, a path encoded twice). It names the access key and
  // may hold the session token: the caller redacts.
  const signed = (err as { CanonicalRequest?: unknown; AWSAccessKeyId?: unknown }) ?? {};
  if (typeof signed.CanonicalRequest !== "string") return described;
  return `${described} The store signed this canonical request for access key ${String(signed.AWSAccessKeyId)}: ${JSON.stringify(signed.CanonicalRequest)}`;
}

/**
 * Scrubs the SDK error kept as `cause`: S3 error bodies (SignatureDoesNotMatch)
 * carry the access key id, the string to sign and the canonical request,
 * which the SDK copies onto the error, where a logger printing the cause
 * would show them.
 */
function redactCause(err: unknown, targets: UploadTargetCache): void {
  if (err === null || typeof err !== "object") return;
  const fields = err as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (typeof fields[key] === "string") fields[key] = targets.redact(fields[key]);
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function responseHeader(err: unknown, name: string): string | undefined {
  const headers = (err as { $response?: { headers?: Record<string, string> } })?.$response?.headers;
  return headers?.[name] ?? headers?.[name.toLowerCase()];
}

/** What the retry policy needs to know about a failed S3 request. */
export function classifyS3(err: unknown): FailureClass {
  if (err instanceof ZillizStageError) return { transient: false };
  return classifyFailure({
    status: httpStatus(err),
    code: s3ErrorCode(err),
    retryAfterMs: parseRetryAfter(responseHeader(err, "Retry-After")),
    cause: err,
  });
}

/** The retry policy for object-store requests: the package's, with its own attempt count. */
export function s3RetryPolicy(maxAttempts = DEFAULT_RETRY.maxAttempts): RetryPolicy {
  return { ...DEFAULT_RETRY, maxAttempts: Math.max(1, maxAttempts) };
}

export interface S3RetryOptions {
  /** Names the request in errors, e.g. `PutObject data/1.parquet`. */
  operation: string;
  /** True ends the retries early: the run is already failing because of another request. */
  shouldStop?: () => boolean;
}

/**
 * A failed S3 request as one of our errors: a store error with its S3 code,
 * status and request id, a TLS error that says what to fix, or a transport
 * error; temporary credentials are removed from the message.
 */
function storeError(err: unknown, failure: FailureClass, operation: string, targets: UploadTargetCache, attempts?: number): unknown {
  if (err instanceof ZillizStageError) return err;
  const description = targets.redact(describeS3Error(err));
  redactCause(err, targets);
  const status = httpStatus(err);
  if (status === undefined && !failure.transient && failure.fix) {
    return new ZillizTlsError(operation, `${failure.fix} (${failure.networkCode})`, { cause: err });
  }
  // No answer at all: the connection failed, not the store.
  if (status === undefined && !(err as { Code?: string })?.Code) {
    return new ZillizTransportError(operation, description, { cause: err, attempts });
  }
  return new ZillizStoreError({
    operation,
    storeCode: s3ErrorCode(err),
    description,
    status,
    requestId: responseHeader(err, "x-amz-request-id") ?? (err as { $metadata?: { requestId?: string } })?.$metadata?.requestId,
    retryAfterMs: failure.transient ? failure.retryAfterMs : undefined,
    attempts,
    cause: err,
  });
}

/**
 * Runs one S3 request under the package's retry policy: network errors,
 * timeouts, throttling and 5xx after a backoff (or the server's
 * Retry-After); an expired or unknown token at once, with fresh credentials.
 * Failures come out as ZillizStoreError (or ZillizTlsError, ZillizTransportError).
 */
export async function withS3Retry<T>(
  targets: UploadTargetCache,
  policy: RetryPolicy,
  fn: () => Promise<T>,
  options: S3RetryOptions,
): Promise<T> {
  let used: StageUploadTarget | undefined;
  return withRetry(
    async () => {
      used = await targets.get();
      return fn();
    },
    {
      policy,
      classify: classifyS3,
      shouldStop: options.shouldStop,
      beforeRetry: (_err, failure) => {
        if (failure.renewCredentials && used) targets.invalidate(used);
      },
      giveUp: (err, { attempts, failure }) => storeError(err, failure, options.operation, targets, attempts),
    },
  );
}
