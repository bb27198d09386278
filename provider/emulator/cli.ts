#!/usr/bin/env node
/**
 * zilliz-stage-emulator --port <p> --data-dir <dir> --api-key <key>
 *   [--host 127.0.0.1] [--credential-ttl <seconds>] [--max-content-length <bytes>]
 *   [--collection <clusterId>/[<dbName>/]<collectionName>]... [--import-rows-per-second <n>]
 *   [--collection-fields <collection>=<field>:<TYPE>[:<maxLength>][:pk],...]...
 *   [--max-file-number <n>] [--errors code|http] [--tls] [--object-url-endpoint <url>]
 */
import { parseArgs } from "node:util";
import { parseFieldsSpec } from "./collections";
import { DEFAULT_IMPORT_ROWS_PER_SECOND } from "./import-jobs";
import { DEFAULT_COLLECTION } from "./import-routes";
import { startEmulator } from "./server";

const USAGE =
  "usage: zilliz-stage-emulator --port <p> --data-dir <dir> --api-key <key> " +
  "[--host 127.0.0.1] [--credential-ttl <seconds>] [--max-content-length <bytes>] " +
  "[--max-file-number <n>] [--errors code|http] [--tls] [--object-url-endpoint <url>]\n" +
  "  [--collection <clusterId>/[<dbName>/]<collectionName>]... [--import-rows-per-second <n>]\n" +
  "  [--collection-fields <collection>=<field>:<TYPE>[:<maxLength>][:pk],...]...\n" +
  `Import jobs may target the collections given (repeat --collection; <projectId>:<regionId> in place of\n` +
  `<clusterId> for a project database); with none, ${DEFAULT_COLLECTION}. Jobs import ${DEFAULT_IMPORT_ROWS_PER_SECOND} rows/s by default.\n` +
  "--collection-fields gives one of them its fields (e.g. in01-x/books=id:INT64:pk,title:VARCHAR:256); " +
  "a collection without them takes its fields from its first import.\n" +
  "--errors code (default): errors are HTTP 200 with a non-zero code, as the service answers; " +
  "--errors http: HTTP 4xx statuses.\n" +
  "--tls: HTTPS with a certificate from a CA made at start, written to <data-dir>/ca.pem.\n" +
  "--object-url-endpoint: the S3 endpoint imports from s3:// object URLs read (signed with the import's keys).\n" +
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
        "collection-fields": { type: "string", multiple: true },
        "import-rows-per-second": { type: "string" },
        "max-file-number": { type: "string" },
        errors: { type: "string" },
        tls: { type: "boolean" },
        "object-url-endpoint": { type: "string" },
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
  const errors = values.errors ?? "code";
  if (errors !== "code" && errors !== "http") {
    process.stderr.write(`--errors must be code or http, got ${JSON.stringify(errors)}\n${USAGE}\n`);
    process.exit(2);
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
    collectionFields: Object.fromEntries((values["collection-fields"] ?? []).map((text) => {
      const { spec, fields } = parseFieldsSpec(text);
      return [spec, fields];
    })),
    importRowsPerSecond: number("import-rows-per-second", values["import-rows-per-second"]),
    maxFileNumber: number("max-file-number", values["max-file-number"]),
    errors,
    tls: values.tls ?? false,
    objectUrlEndpoint: values["object-url-endpoint"],
  });
  if (!apiKey) {
    // The emulator's own key, made up just now: the one place a key is printed.
    apiKey = emulator.apiKey;
    process.stderr.write(`no --api-key given; using ${apiKey}\n`);
  }
  process.stdout.write(`listening on ${emulator.url}\n`);
  if (emulator.caPath) {
    // Public: a client needs it to trust the server (the CA's key was never written anywhere).
    process.stdout.write(`CA certificate: ${emulator.caPath} (trust it with NODE_EXTRA_CA_CERTS=${emulator.caPath})\n${emulator.caPem}`);
  }
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
