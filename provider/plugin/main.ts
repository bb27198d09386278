/**
 * The `zillizcloud` plugin's entry: the engine starts
 * `pulumi-resource-zillizcloud <engine address>`, which runs this compiled
 * file with node. It serves the native provider over the provider protocol.
 */
// First: it caches the compilation of every module loaded after it.
import "../compile-cache";
import "../young-generation";
import "../protobuf-strings";
import { main } from "@pulumi/pulumi/provider";
import { ShutdownGuard } from "../resources/shutdown";
import { engineLog } from "../engine-log";
import { invokeFunction } from "./functions";
import { nativeProvider, PackageConfig } from "./native-provider";
import { packageSchema, PACKAGE_VERSION } from "./schema";

/**
 * The package config the engine puts in `PULUMI_CONFIG` when it starts the
 * plugin: the stack's `zillizcloud:*` values, by name without the
 * namespace, secrets decrypted. The SDK's provider server does not pass the
 * Configure call on, so this is where the config is read.
 */
function configFromEnv(env: NodeJS.ProcessEnv): PackageConfig {
  const text = env.PULUMI_CONFIG;
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const config: Record<string, string> = Object.create(null);
  if (parsed !== null && typeof parsed === "object") {
    for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") config[k] = v;
  }
  return config;
}

function engineAddress(args: string[]): string | undefined {
  return args.find((a) => !a.startsWith("-"));
}

export async function serve(args: string[]): Promise<void> {
  const shutdown = new ShutdownGuard();
  shutdown.arm();
  const address = engineAddress(args);
  const provider = nativeProvider({
    version: PACKAGE_VERSION,
    config: configFromEnv(process.env),
    log: address ? engineLog(address) : undefined,
    getSchema: async () => JSON.stringify(packageSchema()),
    invoke: invokeFunction,
    shutdown,
  });
  await main(provider, args);
}

if (require.main === module) {
  serve(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
