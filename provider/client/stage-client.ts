/**
 * A typed client for the Zilliz Cloud stage API: create, list, delete and
 * apply (temporary upload credentials). Every answer is checked with the
 * zod schemas of ./schemas before anyone sees it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Agent, Dispatcher } from "undici";
import { z } from "zod";
import { StageCall, ZillizApiError, ZillizStageError, ZillizTransportError, ZillizValidationError } from "../errors";
import { backoffDelay, DEFAULT_RETRY, isRetryableNetworkError, isRetryableStatus, parseRetryAfter, RetryPolicy, sleep } from "./retry";
import {
  applyDataSchema,
  ApplyRequest,
  CreateStageRequest,
  envelopeSchema,
  listStagesDataSchema,
  stageRefSchema,
  StagePage,
  StageRef,
  StageUploadTarget,
  SUCCESS_CODES,
} from "./schemas";

export const DEFAULT_ENDPOINT = "https://api.cloud.zilliz.com";

/** The API code the service answers with for an unknown stage. */
export const STAGE_NOT_FOUND_CODE = 1301;
/** The API code for a name that is already taken. */
export const STAGE_EXISTS_CODE = 1302;

export interface StageClientOptions {
  apiKey: string;
  /** Default `https://api.cloud.zilliz.com`. */
  endpoint?: string;
  /** Per request, headers and body together. Default 30 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Appended to the User-Agent. */
  userAgent?: string;
}

/** True when `err` says the stage does not exist. */
export function isStageNotFound(err: unknown): boolean {
  return (
    err instanceof ZillizApiError &&
    (err.status === 404 || err.code === STAGE_NOT_FOUND_CODE || /not (exist|found)/i.test(err.apiMessage))
  );
}

function isStageExists(err: unknown): boolean {
  return err instanceof ZillizApiError && (err.status === 409 || err.code === STAGE_EXISTS_CODE || /already exist/i.test(err.apiMessage));
}

/** Validates an endpoint URL; the message says what a good one looks like. */
export function parseEndpoint(endpoint: string, field = "endpoint"): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ZillizValidationError(field, `"${endpoint}" is not a URL; use e.g. ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ZillizValidationError(field, `"${endpoint}" must be an http(s) URL, e.g. ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new ZillizValidationError(
      field,
      `plain http is accepted only for 127.0.0.1/localhost (the emulator); use https://${url.host}${url.pathname}`,
    );
  }
  return url;
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
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

const HINTS: Record<number, string> = {
  401: "Check the API key: set zillizcloud:apiKey (pulumi config set --secret zillizcloud:apiKey <key>) or ZILLIZCLOUD_API_KEY.",
  403: "The API key is valid but not allowed to do this; check its project and role in the Zilliz Cloud console.",
  409: "The stage name is taken; pick another or import the existing stage.",
  429: "Zilliz Cloud is throttling this API key; wait a minute and try again (a rerun picks up where this one stopped).",
};
/** What to tell the user about an HTTP status. */
function hintFor(status: number): string | undefined {
  if (HINTS[status]) return HINTS[status];
  if (status >= 500) return "Zilliz Cloud could not serve the request; try again later (a rerun picks up where this one stopped).";
  return undefined;
}

export class StageClient {
  private readonly base: URL;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly userAgent: string;
  private readonly dispatcher: Agent;

  constructor(options: StageClientOptions) {
    if (!options.apiKey) throw new ZillizValidationError("apiKey", "is empty; set zillizcloud:apiKey or ZILLIZCLOUD_API_KEY");
    this.base = parseEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.userAgent = `pulumi-zilliz-stages/${packageVersion()} (node ${process.version})${options.userAgent ? " " + options.userAgent : ""}`;
    // One pool per client: keep-alive connections are reused across calls.
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 16 });
  }

  /** Creates a stage. A retried create that finds its own stage already there counts as done. */
  async createStage(req: CreateStageRequest): Promise<StageRef> {
    let attempted = false;
    try {
      return await this.call("create", "POST", "/v2/stages/create", stageRefSchema, req, () => (attempted = true));
    } catch (err) {
      // A first attempt may have created it before its answer was lost; the
      // retry then sees "already exists" for a stage that is ours.
      if (attempted && isStageExists(err)) return { stageName: req.stageName };
      throw err;
    }
  }

  /** One page of the project's stages. */
  listStages(req: { projectId: string; currentPage?: number; pageSize?: number }): Promise<StagePage> {
    const query = new URLSearchParams({ projectId: req.projectId });
    if (req.currentPage !== undefined) query.set("currentPage", String(req.currentPage));
    if (req.pageSize !== undefined) query.set("pageSize", String(req.pageSize));
    return this.call("list", "GET", `/v2/stages?${query}`, listStagesDataSchema);
  }

  /** Every stage of the project, page after page. */
  async *stages(req: { projectId: string; pageSize?: number }): AsyncIterableIterator<StageRef> {
    let seen = 0;
    for (let currentPage = 1; ; currentPage++) {
      const page = await this.listStages({ projectId: req.projectId, currentPage, pageSize: req.pageSize ?? 100 });
      for (const stage of page.stages) yield stage;
      seen += page.stages.length;
      if (page.stages.length === 0 || seen >= page.count) return;
    }
  }

  async findStage(projectId: string, stageName: string): Promise<StageRef | undefined> {
    for await (const stage of this.stages({ projectId })) {
      if (stage.stageName === stageName) return stage;
    }
    return undefined;
  }

  /** Deletes a stage; one that does not exist is reported with `existed: false`, not thrown. */
  async deleteStage(stageName: string): Promise<{ stageName: string; existed: boolean }> {
    try {
      await this.call("delete", "DELETE", `/v2/stages/${encodeURIComponent(stageName)}`, z.unknown());
      return { stageName, existed: true };
    } catch (err) {
      if (isStageNotFound(err)) return { stageName, existed: false };
      throw err;
    }
  }

  /** Temporary credentials and the object-store location for uploads into `path` of a stage. */
  applyUploadTarget(req: ApplyRequest): Promise<StageUploadTarget> {
    return this.call("apply", "POST", "/v2/stages/apply", applyDataSchema, req);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async call<T>(
    call: StageCall,
    method: Dispatcher.HttpMethod,
    pathAndQuery: string,
    dataSchema: z.ZodType<T>,
    body?: unknown,
    onSent?: () => void,
  ): Promise<T> {
    let lastError: ZillizStageError | undefined;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      if (attempt > 1) onSent?.();
      let retryAfterMs: number | undefined;
      try {
        return await this.once(call, method, pathAndQuery, dataSchema, body);
      } catch (err) {
        if (err instanceof ZillizApiError && isRetryableStatus(err.status)) {
          retryAfterMs = (err as ZillizApiError & { retryAfterMs?: number }).retryAfterMs;
          lastError = err;
        } else if (err instanceof ZillizTransportError) {
          lastError = err;
        } else {
          throw err;
        }
      }
      if (attempt < this.retry.maxAttempts) await sleep(backoffDelay(attempt, this.retry, retryAfterMs));
    }
    const n = this.retry.maxAttempts;
    lastError!.message = `${lastError!.message} (gave up after ${n} attempt${n === 1 ? "" : "s"})`;
    throw lastError!;
  }

  private async once<T>(
    call: StageCall,
    method: Dispatcher.HttpMethod,
    pathAndQuery: string,
    dataSchema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    const url = new URL(pathAndQuery.replace(/^\//, ""), this.base.href.endsWith("/") ? this.base : this.base.href + "/");
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": this.userAgent,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      if (isRetryableNetworkError(err) || (err as Error)?.name === "TimeoutError") {
        const timedOut = (err as Error)?.name === "TimeoutError" || (err as Error)?.name === "AbortError";
        throw new ZillizTransportError(
          call,
          timedOut
            ? `no answer from ${url.origin} within ${this.timeoutMs} ms; check the endpoint or raise the timeout`
            : `could not reach ${url.origin} (${describeCause(err)}); check the endpoint and the network`,
          { cause: err },
        );
      }
      throw new ZillizTransportError(call, `request to ${url.origin} failed (${describeCause(err)})`, { cause: err });
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.apiError(call, status, headers, status, `the answer was not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw this.apiError(call, status, headers, status, `the answer is not a {code, message, data} envelope`);
    }
    const { code, message, data } = envelope.data;
    if (status !== 200 || !SUCCESS_CODES.includes(code)) {
      throw this.apiError(call, status, headers, code, message || `HTTP ${status}`);
    }
    const parsed = dataSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = ["data", ...issue.path.map(String)].join(".");
      throw this.apiError(call, status, headers, code, `the answer did not match the API: ${field} ${issue.message}`);
    }
    return parsed.data;
  }

  private apiError(
    call: StageCall,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    code: number,
    apiMessage: string,
  ): ZillizApiError {
    const err = new ZillizApiError({ status, code, apiMessage, call, hint: hintFor(status) });
    const retryAfterMs = parseRetryAfter(headers["retry-after"]);
    if (retryAfterMs !== undefined) Object.assign(err, { retryAfterMs });
    return err;
  }
}

function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e: any = err; e && parts.length < 3; e = e.cause) {
    parts.push(e.code ? `${e.code}: ${e.message}` : String(e.message ?? e));
  }
  return parts.join(" <- ");
}
