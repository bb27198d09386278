/**
 * Where the provider's endpoint and API key come from. Order: the resource's
 * own `connection` input, then stack config (`zillizcloud:apiKey`,
 * `zillizcloud:endpoint`), then the environment (`ZILLIZCLOUD_API_KEY`,
 * `ZILLIZCLOUD_ENDPOINT`). Everything is read at call time inside the
 * provider process, never in the program, so no key is ever captured into
 * the serialized provider.
 */
import { z } from "zod";
import { DEFAULT_ENDPOINT, parseEndpoint } from "../endpoint";
import { ZillizValidationError } from "../errors";

export const CONFIG_API_KEY = "zillizcloud:apiKey";
export const CONFIG_ENDPOINT = "zillizcloud:endpoint";
export const ENV_API_KEY = "ZILLIZCLOUD_API_KEY";
export const ENV_ENDPOINT = "ZILLIZCLOUD_ENDPOINT";
export const CONFIG_REQUEST_TIMEOUT = "zillizcloud:requestTimeoutSeconds";
export const ENV_REQUEST_TIMEOUT = "ZILLIZCLOUD_REQUEST_TIMEOUT_SECONDS";
/** What a request-timeout error tells the user to change. */
export const REQUEST_TIMEOUT_FIX = `set ${CONFIG_REQUEST_TIMEOUT} (stack config) or ${ENV_REQUEST_TIMEOUT} to more seconds`;

/** The per-resource `connection` input, for programs that talk to two accounts. */
export const connectionInputSchema = z
  .object({
    endpoint: z.string().min(1).optional(),
    apiKey: z.string().min(1).optional(),
  })
  .strict();
export type ConnectionInput = z.infer<typeof connectionInputSchema>;

/**
 * Did the resource's `connection` change? A change is an update, never a
 * replacement (the stage is the same), and the state must follow it, or
 * refresh and destroy would go on using the old endpoint and key.
 */
export function connectionChanged(olds: ConnectionInput | undefined, news: ConnectionInput | undefined): boolean {
  return (olds?.endpoint ?? "") !== (news?.endpoint ?? "") || (olds?.apiKey ?? "") !== (news?.apiKey ?? "");
}

/** Stack config as the dynamic provider's `configure` sees it. */
export interface ProviderSettings {
  apiKey?: string;
  endpoint?: string;
  /** As configured: checked by requestTimeoutMs. */
  requestTimeoutSeconds?: string;
}

/** A resolved connection: what a ZillizClient needs. */
export interface Connection {
  endpoint: string;
  apiKey: string;
}

/** Reads the `zillizcloud` namespace from the config the engine hands to `configure`. */
export function settingsFromConfig(config: { get(key: string): string | undefined }): ProviderSettings {
  return {
    apiKey: config.get(CONFIG_API_KEY) || undefined,
    endpoint: config.get(CONFIG_ENDPOINT) || undefined,
    requestTimeoutSeconds: config.get(CONFIG_REQUEST_TIMEOUT) || undefined,
  };
}

/**
 * How long one REST request may take, from stack config, then the
 * environment; undefined for the client's default (30 s). A slow network or a
 * busy service may need more; the error of a request that timed out says
 * where to set it.
 */
export function requestTimeoutMs(settings: ProviderSettings, env: NodeJS.ProcessEnv): number | undefined {
  const [raw, field] = settings.requestTimeoutSeconds
    ? [settings.requestTimeoutSeconds, CONFIG_REQUEST_TIMEOUT]
    : env[ENV_REQUEST_TIMEOUT]
      ? [env[ENV_REQUEST_TIMEOUT], ENV_REQUEST_TIMEOUT]
      : [undefined, undefined];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ZillizValidationError(field, `must be a number of seconds between 0 and 3600 (e.g. 60), got ${JSON.stringify(raw)}`);
  }
  return Math.round(seconds * 1000);
}

/**
 * Picks the endpoint and key for one call. Throws one error that names every
 * place a key can come from when none is set.
 */
export function resolveConnection(
  input: ConnectionInput | undefined,
  settings: ProviderSettings,
  env: NodeJS.ProcessEnv,
): Connection {
  const apiKey = input?.apiKey || settings.apiKey || env[ENV_API_KEY];
  // The error for a bad endpoint names the place it came from, so the user knows what to fix.
  const [endpoint, endpointField] = input?.endpoint
    ? [input.endpoint, "connection.endpoint"]
    : settings.endpoint
      ? [settings.endpoint, CONFIG_ENDPOINT]
      : env[ENV_ENDPOINT]
        ? [env[ENV_ENDPOINT], ENV_ENDPOINT]
        : [DEFAULT_ENDPOINT, CONFIG_ENDPOINT];
  parseEndpoint(endpoint, { field: endpointField });
  if (!apiKey) {
    throw new ZillizValidationError(
      CONFIG_API_KEY,
      `no Zilliz Cloud API key is set. Run \`pulumi config set --secret ${CONFIG_API_KEY} <key>\`, ` +
        `or export ${ENV_API_KEY}, or pass \`connection: { apiKey }\` to the resource.`,
    );
  }
  return { endpoint, apiKey };
}
