/**
 * What one provider instance knows: the stack config it was configured with
 * and the clients it has opened. One instance serves every call of a
 * dynamic-provider process, so clients are reused across resources; there is
 * no module-level state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { StageClient } from "../client";
import { ConnectionInput, ProviderSettings, resolveConnection, settingsFromConfig } from "./connection";

export class ProviderContext {
  private settings: ProviderSettings = {};
  private readonly clients = new Map<string, StageClient>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    this.settings = settingsFromConfig(req.config);
  }

  /** A client for the resource's connection, or the provider's, or the environment's. */
  client(input?: ConnectionInput): StageClient {
    const { endpoint, apiKey } = resolveConnection(input, this.settings, this.env);
    const cacheKey = `${endpoint}\n${apiKey}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = new StageClient({ endpoint, apiKey });
      this.clients.set(cacheKey, client);
    }
    return client;
  }

  /** Closes every connection pool (tests; the provider process just exits). */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }
}
