#!/usr/bin/env node
/**
 * zilliz-stage-emulator --port <p> --data-dir <dir> --api-key <key>
 *   [--host 127.0.0.1] [--credential-ttl <seconds>] [--max-content-length <bytes>]
 *   [--collection <clusterId>/<collectionName>]... [--import-rows-per-second <n>]
 */
import { parseArgs } from "node:util";
import { DEFAULT_IMPORT_ROWS_PER_SECOND } from "./import-jobs";
import { DEFAULT_COLLECTION } from "./import-routes";
import { startEmulator } from "./server";

const USAGE =
  "usage: zilliz-stage-emulator --port <p> --data-dir <dir> --api-key <key> " +
  "[--host 127.0.0.1] [--credential-ttl <seconds>] [--max-content-length <bytes>]\n" +
  "  [--collection <clusterId>/[<dbName>/]<collectionName>]... [--import-rows-per-second <n>]\n" +
  `Import jobs may target the collections given (repeat --collection; <projectId>:<regionId> in place of\n` +
  `<clusterId> for a project database); with none, ${DEFAULT_COLLECTION}. Jobs import ${DEFAULT_IMPORT_ROWS_PER_SECOND} rows/s by default.\n` +
  "The API key may also come from ZILLIZ_EMULATOR_API_KEY.";

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`--${name} must be a whole number, got ${JSON.stringify(value)}\n${USAGE}\n`);
    process.exit(2);
  }
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
        "api-key": { type: "string" },
        "credential-ttl": { type: "string" },
        "max-content-length": { type: "string" },
        collection: { type: "string", multiple: true },
        "import-rows-per-second": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  let apiKey = values["api-key"] ?? process.env.ZILLIZ_EMULATOR_API_KEY;
  const emulator = await startEmulator({
    port: number("port", values.port) ?? 0,
    host: values.host,
    dataDir: values["data-dir"],
    apiKey,
    credentialTtlSeconds: number("credential-ttl", values["credential-ttl"]),
    maxContentLength: number("max-content-length", values["max-content-length"]),
    collections: values.collection,
    importRowsPerSecond: number("import-rows-per-second", values["import-rows-per-second"]),
  });
  if (!apiKey) {
    // The emulator's own key, made up just now: the one place a key is printed.
    apiKey = emulator.apiKey;
    process.stderr.write(`no --api-key given; using ${apiKey}\n`);
  }
  process.stdout.write(`listening on ${emulator.url}\n`);
  const stop = () => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err) => {
  process.stderr.write(`zilliz-stage-emulator: ${(err as Error).message}\n`);
  process.exit(1);
});
