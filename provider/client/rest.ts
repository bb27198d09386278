/**
 * The REST transport every Zilliz Cloud call goes through: the key, the
 * envelope, the zod check of `data`, typed errors and the package's one
 * retry policy. An endpoint is one `call()` with its method, path and the
 * schema of its answer; stages, volumes and import jobs all use it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Agent } from "undici";
import { z } from "zod";
import { DEFAULT_ENDPOINT, parseEndpoint } from "../endpoint";
import { ApiCall, ZillizApiError, ZillizTlsError, ZillizTransportError, ZillizValidationError } from "../errors";
import { certainlyNotDone, classifyFailure, DEFAULT_RETRY, Failure, FailureClass, parseRetryAfter, RetryPolicy, withRetry } from "../retry";
import { hintFor } from "./api-errors";
import { API_SUCCESS_CODES } from "./api-codes";
import { envelopeSchema } from "./schemas";

export interface RestClientOptions {
  apiKey: string;
  /** Default `https://api.cloud.zilliz.com`. */
  endpoint?: string;
  /** Per request, headers and body together. Default 30 s. */
  timeoutMs?: number;
  /** How the user can give a request more time, for the timeout error (default: the timeoutMs option). */
  timeoutFix?: string;
  retry?: Partial<RetryPolicy>;
  /** Appended to the User-Agent. */
  userAgent?: string;
}

/** One REST call: what it is called in messages, where it goes, and what its `data` must look like. */
export interface ApiRequest<T> {
  /** Names the call in errors, e.g. `create` or `describe volume`. */
  call: ApiCall;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Below the endpoint, e.g. `/v2/stages/create`; path segments from input must be encoded by the caller. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Extra request headers (e.g. `DB-Name`); they cannot replace the key, content type or user agent. */
  headers?: Record<string, string>;
  /** The schema of the envelope's `data`. */
  data: z.ZodType<T>;
  /** Called before every attempt after the first: a retried create may find its own earlier attempt's result. */
  onRetry?: () => void;
  /**
   * False for a call that must not run twice (starting an import job): it is
   * retried only when the failure shows nothing was done (see certainlyNotDone).
   */
  idempotent?: boolean;
}

/** This package's version, from the package.json above this file (source or dist). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
      if (pkg.name === "pulumi-zilliz-stages") return String(pkg.version);
    } catch {
      // not here; keep walking up
    }
    if (path.dirname(dir) === dir) return "0.0.0";
  }
}

/** What the retry policy knows about one of our errors. */
function failureOf(err: unknown): Failure | undefined {
  if (err instanceof ZillizApiError) return { status: err.status, retryAfterMs: err.retryAfterMs };
  if (err instanceof ZillizTransportError) return { cause: err.cause };
  return undefined;
}

/** Transient by the one policy; for a call that must not run twice, also certainly not done. */
function classify(err: unknown, idempotent: boolean): FailureClass {
  const failure = failureOf(err);
  if (!failure) return { transient: false };
  const verdict = classifyFailure(failure);
  return verdict.transient && !idempotent && !certainlyNotDone(failure) ? { transient: false } : verdict;
}

function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e && parts.length < 3; e = e.cause as typeof e) {
    const message = typeof e.message === "string" ? e.message : "unknown error";
    parts.push(typeof e.code === "string" ? `${e.code}: ${message}` : message);
  }
  return parts.join(" <- ");
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class RestClient {
  private readonly base: URL;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly timeoutFix: string;
  private readonly retry: RetryPolicy;
  private readonly userAgent: string;
  private readonly dispatcher: Agent;

  constructor(options: RestClientOptions) {
    if (!options.apiKey) throw new ZillizValidationError("apiKey", "is empty; set zillizcloud:apiKey or ZILLIZCLOUD_API_KEY");
    this.base = parseEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
    if (!this.base.pathname.endsWith("/")) this.base.pathname += "/";
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.timeoutFix = options.timeoutFix ?? "pass a larger timeoutMs to the client";
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.userAgent = `pulumi-zilliz-stages/${packageVersion()} (node ${process.version})${options.userAgent ? " " + options.userAgent : ""}`;
    // One pool per client: keep-alive connections are reused across calls.
    // Loaded with the first client, not at import: a provider process that
    // only plans makes none, and undici is about 30 MiB of RSS (upload/put.ts).
    const { Agent } = require("undici") as typeof import("undici");
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 16 });
  }

  /**
   * Makes one call, retried by the package's retry policy, and returns its
   * `data` checked against `req.data`. Throws ZillizApiError for an error
   * answer, ZillizTransportError (ZillizTlsError for TLS) when there was none.
   */
  call<T>(req: ApiRequest<T>): Promise<T> {
    return withRetry(
      (attempt) => {
        if (attempt > 1) req.onRetry?.();
        return this.once(req);
      },
      {
        policy: this.retry,
        classify: (err) => classify(err, req.idempotent ?? true),
        giveUp: (err, { attempts }) => (attempts === undefined ? err : afterAttempts(err, attempts)),
      },
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async once<T>(req: ApiRequest<T>): Promise<T> {
    const url = new URL(req.path.replace(/^\//, ""), this.base);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: {
          // Lower-cased so that the fixed headers below always win.
          ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
          authorization: `Bearer ${this.apiKey}`,
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": this.userAgent,
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      throw this.transportError(req.call, url, err);
    }

    const answer = { call: req.call, status, requestId: header(headers, "x-request-id") ?? header(headers, "requestid"), retryAfterMs: parseRetryAfter(headers["retry-after"]) };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw apiError({ ...answer, apiCode: status, apiMessage: `the answer was not JSON: ${JSON.stringify(text.slice(0, 120))}` });
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw apiError({ ...answer, apiCode: status, apiMessage: "the answer is not a {code, message, data} envelope" });
    }
    const { code, message, data, requestId } = envelope.data;
    const known = { ...answer, apiCode: code, requestId: answer.requestId ?? requestId };
    if (status !== 200 || !API_SUCCESS_CODES.includes(code)) {
      throw apiError({ ...known, apiMessage: message || `HTTP ${status}` });
    }
    const parsed = req.data.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = ["data", ...issue.path.map(String)].join(".");
      throw apiError({ ...known, apiMessage: `the answer did not match the API: ${field} ${issue.message}` });
    }
    return parsed.data;
  }

  private transportError(call: ApiCall, url: URL, err: unknown): ZillizTransportError {
    const failure = classifyFailure({ cause: err });
    if (!failure.transient && failure.fix) {
      return new ZillizTlsError(call, `could not talk to ${url.origin}: ${failure.fix} (${failure.networkCode})`, { cause: err });
    }
    const timedOut = (err as Error)?.name === "TimeoutError" || (err as Error)?.name === "AbortError";
    if (timedOut) {
      return new ZillizTransportError(call, `no answer from ${url.origin} within ${this.timeoutMs} ms; check the endpoint, or give requests more time: ${this.timeoutFix}`, {
        cause: err,
      });
    }
    if (failure.transient) {
      return new ZillizTransportError(call, `could not reach ${url.origin} (${describeCause(err)}); check the endpoint and the network`, {
        cause: err,
      });
    }
    return new ZillizTransportError(call, `request to ${url.origin} failed (${describeCause(err)}); check the endpoint`, { cause: err });
  }
}

function apiError(init: { call: ApiCall; status: number; apiCode: number; apiMessage: string; requestId?: string; retryAfterMs?: number }): ZillizApiError {
  return new ZillizApiError({ ...init, hint: hintFor(init) });
}

/** The last failure of a retried call, as a new error that says how many attempts were made. */
function afterAttempts(err: unknown, attempts: number): unknown {
  if (err instanceof ZillizApiError) return err.with({ attempts });
  if (err instanceof ZillizTransportError) return new ZillizTransportError(err.operation, err.detail, { cause: err, attempts });
  return err;
}
