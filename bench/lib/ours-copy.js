#!/usr/bin/env node
// Our side of the object-copy benchmark, as its own process (rclone is one
// too): the copy a VolumeFiles with an s3:// source makes, through the same
// engine calls as the provider (listSource, hashListing with the previous
// manifest as cache and the destination's free keys, planChanges,
// executeUpload reading through the object source), in a process set up as
// the provider's is.
//
//   node bench/lib/ours-copy.js <s3://bucket/prefix/> <endpoint> <stagePath> <targetFile> [--cache F] [--save F]
//
// The source's credentials come from the AWS default chain (the harness sets
// them in the environment). Prints one JSON line: phase times, counts, peak RSS.
"use strict";
require("../../dist/provider/compile-cache");
require("../../dist/provider/young-generation");
const fs = require("node:fs");
const { parseArgs } = require("node:util");
const { listSource, hashListing, listRemoteFiles, planChanges, executeUpload, identitiesOf, decodeManifest, encodeManifest } = require("../../dist/provider/upload");
const { ObjectSourceClient, objectPlannedSource } = require("../../dist/provider/upload/object-source");

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { cache: { type: "string" }, save: { type: "string" } } });
  const [source, endpoint, stagePath, targetFile] = positionals;
  const cache = values.cache ? decodeManifest(fs.readFileSync(values.cache, "utf8")) : undefined;
  let t = now();
  const listing = await listSource(source, { sourceEndpoint: endpoint });
  const listSeconds = now() - t;
  t = now();
  const target = JSON.parse(fs.readFileSync(targetFile, "utf8"));
  const targets = { applyUploadTarget: async () => target };
  // As the provider does: small objects bound for free keys are hashed as they are sent.
  const freeKeys = async () => {
    const occupied = await listRemoteFiles(targets, { stageName: target.stageName, path: stagePath });
    return (rel) => !occupied.has(rel);
  };
  const { manifest, stats } = await hashListing(listing, { cache, freeKeys });
  const hashSeconds = now() - t;
  const plan = planChanges(cache, manifest);
  const client = new ObjectSourceClient(listing.objects.location, listing.objects.settings);
  t = now();
  let outcome;
  try {
    outcome = await executeUpload(
      { stageName: target.stageName, path: stagePath, root: listing.root, manifest, upload: plan.upload, delete: plan.delete, known: cache, source: objectPlannedSource(client, identitiesOf(listing)) },
      { targets },
    );
  } finally {
    client.close();
  }
  const copySeconds = now() - t;
  if (values.save) fs.writeFileSync(values.save, encodeManifest(manifest));
  process.stdout.write(
    JSON.stringify({ listSeconds, hashSeconds, copySeconds, objects: stats.files, hashedBytes: stats.hashedBytes, uploaded: outcome.uploaded.length, bytesSent: outcome.bytesSent, maxRssKiB: process.resourceUsage().maxRSS }) + "\n",
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
