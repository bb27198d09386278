#!/usr/bin/env node
// Our side of the benchmark, as its own process (peers are processes too, so
// start-up and module loading count for everyone). Uses the upload engine
// exactly as the StagedFiles provider calls it.
//
//   node bench/lib/ours.js upload <dir> <stagePath> <targetFile> [cacheFile]
//   node bench/lib/ours.js scan <dir> [cacheFile|--force]      (hash / re-plan)
// Prints one JSON line: { seconds, bytesSent?, files, hashedBytes, maxRssKiB }.
"use strict";
const fs = require("node:fs");
const { scanSource, planChanges, executeUpload } = require("../../dist/provider/upload");

async function main() {
  const [mode, dir, ...rest] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  if (mode === "scan") {
    const arg = rest[0];
    const cache = arg && arg !== "--force" ? JSON.parse(fs.readFileSync(arg, "utf8")) : undefined;
    const scan = await scanSource(dir, { cache, forceRehash: arg === "--force" });
    const plan = planChanges(cache, scan.manifest);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (rest[1]) fs.writeFileSync(rest[1], JSON.stringify(scan.manifest));
    out({ seconds, files: scan.stats.files, hashedBytes: scan.stats.hashedBytes, toUpload: plan.upload.length });
    return;
  }
  const [stagePath, targetFile, cacheFile, saveFile] = rest;
  const target = JSON.parse(fs.readFileSync(targetFile, "utf8"));
  const cache = cacheFile && cacheFile !== "-" ? JSON.parse(fs.readFileSync(cacheFile, "utf8")) : undefined;
  const scan = await scanSource(dir, { cache });
  const plan = planChanges(cache, scan.manifest);
  const outcome = await executeUpload(
    { stageName: target.stageName, path: stagePath, root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete },
    { targets: { applyUploadTarget: async () => target } },
  );
  if (saveFile) fs.writeFileSync(saveFile, JSON.stringify(scan.manifest));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out({ seconds, bytesSent: outcome.bytesSent, files: outcome.uploaded.length, hashedBytes: scan.stats.hashedBytes });
}

function out(result) {
  process.stdout.write(JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS }) + "\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
