/**
 * What one provider instance knows: the stack config it was configured with
 * and the clients it has opened. One instance serves every call of a
 * dynamic-provider process, so clients are reused across resources; there is
 * no module-level state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ImportJobClient, JobsClient, ZillizClient } from "../client";
import { RequestLimiter } from "../upload";
import { ConnectionInput, ProviderSettings, REQUEST_TIMEOUT_FIX, requestTimeoutMs, resolveConnection, settingsFromConfig } from "./connection";
import { RecentScans } from "./recent-scans";
import { ShutdownGuard } from "./shutdown";

/**
 * S3 requests in flight across every resource this process serves. The
 * engine runs independent resources in parallel; each upload also keeps its
 * own `concurrency`, so one resource cannot take every slot for long.
 */
export const PROCESS_REQUEST_LIMIT = 64;

/** How a provider process talks to the user; tests pass their own. */
export interface ProviderOutput {
  /**
   * A message for the user (one or more lines). Default `console.error`; the
   * provider processes pass the engine's log (runtime.ts, plugin/main.ts),
   * which shows it under the resource and keeps its lines as they are.
   */
  log?: (line: string) => void;
  /** Least time between two progress lines of one upload. Default 10 s. */
  progressEveryMs?: number;
}

export class ProviderContext {
  private settings: ProviderSettings = {};
  private readonly clients = new Map<string, ZillizClient>();
  /** Import-job calls over each client's connection pool; they remember which progress call the service knows. */
  private readonly importClients = new WeakMap<ZillizClient, ImportJobClient>();
  private readonly jobClients = new WeakMap<ZillizClient, JobsClient>();
  /** Shared by every upload and deletion this instance runs. */
  readonly requests: RequestLimiter;
  /** Scans made by check and diff, so that the update right after them need not walk and hash again. */
  readonly scans = new RecentScans();
  readonly log: (line: string) => void;
  readonly progressEveryMs: number;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    requestLimit = PROCESS_REQUEST_LIMIT,
    output: ProviderOutput = {},
    /** The process's stop: uploads run under its signal. Armed only in the provider process (runtime.ts). */
    readonly shutdown = new ShutdownGuard(),
  ) {
    this.requests = new RequestLimiter(requestLimit);
    this.log = output.log ?? ((line) => console.error(line));
    this.progressEveryMs = output.progressEveryMs ?? 10_000;
  }

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    this.settings = settingsFromConfig(req.config);
  }

  /** A client for the resource's connection, or the provider's, or the environment's. */
  client(input?: ConnectionInput): ZillizClient {
    const { endpoint, apiKey } = resolveConnection(input, this.settings, this.env);
    const timeoutMs = requestTimeoutMs(this.settings, this.env);
    const cacheKey = `${endpoint}\n${apiKey}\n${timeoutMs ?? ""}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = new ZillizClient({ endpoint, apiKey, timeoutMs, timeoutFix: REQUEST_TIMEOUT_FIX });
      this.clients.set(cacheKey, client);
    }
    return client;
  }

  /** The import-job calls, on the same client (endpoint, key, pool) as `client(input)`. */
  importJobs(input?: ConnectionInput): ImportJobClient {
    const rest = this.client(input);
    let jobs = this.importClients.get(rest);
    if (!jobs) {
      jobs = new ImportJobClient(rest);
      this.importClients.set(rest, jobs);
    }
    return jobs;
  }

  /** The merge and jobs calls, on the same client (endpoint, key, pool) as `client(input)`. */
  jobs(input?: ConnectionInput): JobsClient {
    const rest = this.client(input);
    let jobs = this.jobClients.get(rest);
    if (!jobs) {
      jobs = new JobsClient(rest);
      this.jobClients.set(rest, jobs);
    }
    return jobs;
  }

  /** Closes every connection pool (tests; the provider process just exits). */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }
}
