#!/usr/bin/env node
// Our side of the benchmark, as its own process: the peers are processes, so
// node's start-up and module loading count for everyone. Calls the upload
// engine exactly as the StagedFiles provider does (listSource, hashListing
// with the previous manifest as cache, planChanges, executeUpload with the
// listing's identities, default options),
// in a process set up as the provider's is (Node's compile cache on).
//
//   node bench/lib/ours.js load                       (start-up + require only)
//   node bench/lib/ours.js scan <dir> [--force] [--cache F] [--threads N] [--save F]
//   node bench/lib/ours.js upload <dir> <stagePath> <targetFile> [--cache F] [--save F]
//
// Prints one JSON line with the phases' wall times (seconds), the CPU time of
// the scan (every thread: user + system), counts and the peak RSS.
"use strict";
// As the provider processes do (runtime.ts, plugin/main.ts): Node's compile cache, before anything loads.
require("../../dist/provider/compile-cache");
require("../../dist/provider/young-generation");
const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { listSource, hashListing, identitiesOf, planChanges, executeUpload } = require("../../dist/provider/upload");

const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { force: { type: "boolean" }, cache: { type: "string" }, threads: { type: "string" }, save: { type: "string" } },
  });
  const [mode, dir, stagePath, targetFile] = positionals;
  // Node start and module loading: everything before this line.
  const startupSeconds = process.uptime();
  if (mode === "load") return out({ startupSeconds });

  let t = now();
  // In the provider the previous manifest arrives already parsed (from the
  // state); parsing it here is timed apart.
  const cache = values.cache ? JSON.parse(fs.readFileSync(values.cache, "utf8")) : undefined;
  const parseSeconds = now() - t;

  t = now();
  const cpu0 = cpu();
  // As the provider does: the listing is kept, so that the upload opens each
  // file as it was listed and sends the part CRC32s its hash computed.
  const listing = await listSource(dir);
  const scan = await hashListing(listing, {
    cache,
    forceRehash: !!values.force,
    hashConcurrency: values.threads ? Number(values.threads) : undefined,
  });
  const scanCpuSeconds = cpu() - cpu0;
  const scanSeconds = now() - t;

  t = now();
  const plan = planChanges(cache, scan.manifest);
  const planSeconds = now() - t;

  const result = {
    startupSeconds,
    parseSeconds,
    scanSeconds,
    scanCpuSeconds,
    planSeconds,
    files: scan.stats.files,
    hashedBytes: scan.stats.hashedBytes,
    toUpload: plan.upload.length,
    toDelete: plan.delete.length,
  };

  if (mode === "upload") {
    const target = JSON.parse(fs.readFileSync(targetFile, "utf8"));
    t = now();
    const cpu1 = cpu();
    const outcome = await executeUpload(
      {
        stageName: target.stageName,
        path: stagePath,
        root: scan.root,
        manifest: scan.manifest,
        upload: plan.upload,
        delete: plan.delete,
        identities: identitiesOf(listing),
      },
      // The harness made the one apply call for every tool; hand its answer over.
      { targets: { applyUploadTarget: async () => target } },
    );
    result.executeSeconds = now() - t;
    // The main thread's and every worker's CPU alike (process.cpuUsage is the process's).
    result.executeCpuSeconds = cpu() - cpu1;
    result.bytesSent = outcome.bytesSent;
    result.uploaded = outcome.uploaded.length;
  } else if (mode !== "scan") {
    throw new Error(`unknown mode ${mode}`);
  }
  // Saving the manifest is the harness's work, not the scan's: its memory is not in the figure.
  result.maxRssKiB = process.resourceUsage().maxRSS;
  if (values.save) fs.writeFileSync(values.save, JSON.stringify(scan.manifest));
  out(result);
}

function out(result) {
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, ...result }) + "\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
