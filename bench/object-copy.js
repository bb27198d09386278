#!/usr/bin/env node
// `npm run bench:object-copy`: files from another object store (issue 18).
// Copies 1,000 × 256 KiB and 4 × 256 MiB from gofakes3 (a third-party S3
// server built from its Go module) into the emulator's stage, ours (the
// engine a VolumeFiles with an s3:// source runs) against `rclone copy
// src:bucket dst:bucket` (Debian's 1.60 and 1.76 from its Go module) on the
// same two servers, then a no-op re-run of each, which goes through a
// recording proxy so the source requests can be counted. Writes
// bench/results/object-copy-latest.json.
//
//   node bench/object-copy.js [--runs 3] [--quick]   (--quick: 100 small, 2 × 32 MiB)
"use strict";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { randomBytes } = require("node:crypto");
const { parseArgs } = require("node:util");
const { PutObjectCommand, S3Client } = require("@aws-sdk/client-s3");
const { preflight } = require("./lib/machine");
const { finish } = require("./lib/results");
const { summary } = require("./lib/stats");
const { table, secs } = require("./lib/table");
const { openStage } = require("./lib/stage");
const { ensurePeers, Runner, cleanEnv, versions, RCLONE, RCLONE_NEW } = require("./lib/tools");
const { GOFAKES3_VERSION, startGofakes3 } = require("../scripts/gofakes3");
const { startS3Proxy } = require("../scripts/s3-proxy");

const { values: opts } = parseArgs({ options: { runs: { type: "string" }, quick: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (opts.help) {
  console.log("node bench/object-copy.js [--runs 3] [--quick]");
  process.exit(0);
}
const MiB = 1024 * 1024;
const RUNS = Number(opts.runs ?? 3);
const SETS = opts.quick ? { small: [100, 256 * 1024], large: [2, 32 * MiB] } : { small: [1000, 256 * 1024], large: [4, 256 * MiB] };
const OURS = path.join(__dirname, "lib", "ours-copy.js");
const log = (...a) => console.error(...a);

async function main() {
  const t0 = Date.now();
  const machine = preflight({ needGiB: 4, log });
  ensurePeers(log);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-bench-copy-"));
  const runner = new Runner(work);
  const stage = await openStage(work);
  const fake = await startGofakes3("lake");
  const proxy = await startS3Proxy(fake.url);
  const results = { when: new Date().toISOString(), machine, versions: versions(), source: `gofakes3 ${GOFAKES3_VERSION} (memory backend)`, runs: RUNS, sets: SETS, workloads: {} };
  const rows = [];
  try {
    log("seeding the source bucket...");
    const src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    for (const [set, [count, size]] of Object.entries(SETS)) {
      for (let i = 0; i < count; i++) {
        const Body = randomBytes(size);
        await src.send(new PutObjectCommand({ Bucket: "lake", Key: `${set}/${String(i).padStart(5, "0")}.bin`, Body, ContentLength: size }));
      }
    }
    src.destroy();

    const t = stage.target;
    const c = t.credentials;
    const sourceEnv = { AWS_ACCESS_KEY_ID: "AKIDLAKE", AWS_SECRET_ACCESS_KEY: "lake-secret", AWS_REGION: "us-east-1", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true" };
    const rcloneEnv = (endpoint) =>
      cleanEnv({
        RCLONE_CONFIG: "/dev/null",
        RCLONE_CONFIG_LAKE_TYPE: "s3",
        RCLONE_CONFIG_LAKE_PROVIDER: "Other",
        RCLONE_CONFIG_LAKE_ACCESS_KEY_ID: "AKIDLAKE",
        RCLONE_CONFIG_LAKE_SECRET_ACCESS_KEY: "lake-secret",
        RCLONE_CONFIG_LAKE_ENDPOINT: endpoint,
        RCLONE_CONFIG_LAKE_FORCE_PATH_STYLE: "true",
        RCLONE_CONFIG_STAGE_TYPE: "s3",
        RCLONE_CONFIG_STAGE_PROVIDER: "Other",
        RCLONE_CONFIG_STAGE_ACCESS_KEY_ID: c.tmpAK,
        RCLONE_CONFIG_STAGE_SECRET_ACCESS_KEY: c.tmpSK,
        RCLONE_CONFIG_STAGE_SESSION_TOKEN: c.sessionToken,
        RCLONE_CONFIG_STAGE_ENDPOINT: t.endpoint,
        RCLONE_CONFIG_STAGE_REGION: t.region,
        RCLONE_CONFIG_STAGE_FORCE_PATH_STYLE: "true",
        RCLONE_CONFIG_STAGE_NO_CHECK_BUCKET: "true",
      });
    const rclone = (bin) => (set, prefix, endpoint) => runner.run(bin, ["copy", `lake:lake/${set}`, `stage:${t.bucketName}/${t.stagePrefix}${prefix}`], rcloneEnv(endpoint));
    const tools = {
      ours: (set, prefix, endpoint, extra = []) => runner.run(process.execPath, [OURS, `s3://lake/${set}/`, endpoint, prefix, stage.targetFile, ...extra], cleanEnv(sourceEnv)),
      "rclone 1.76 copy": rclone(RCLONE_NEW),
      "rclone 1.60 copy": rclone(RCLONE),
    };

    for (const [set, [count, size]] of Object.entries(SETS)) {
      const key = `${set} ${count}×${size >= MiB ? `${size / MiB}M` : `${size / 1024}K`}`;
      const w = (results.workloads[key] = {});
      for (const name of Object.keys(tools)) w[name] = { copy: [], copyCpu: [], noop: [], noopRequests: [] };
      for (let r = 0; r < RUNS; r++) {
        for (const [name, run] of Object.entries(tools)) {
          const prefix = `${name.replace(/\W+/g, "-")}-${r}/`;
          const manifest = path.join(work, "manifest");
          const copy = await run(set, prefix, fake.url, name === "ours" ? ["--save", manifest] : []);
          const arrived = stage.objects(prefix);
          if (arrived.length !== count || arrived.some((o) => o.size !== size)) throw new Error(`${name} ${key}: ${arrived.length} of ${count} objects arrived whole`);
          proxy.seen.length = 0;
          const noop = await run(set, prefix, proxy.url, name === "ours" ? ["--cache", manifest] : []);
          const kinds = {};
          for (const q of proxy.seen) {
            const k = q.method === "GET" && /[?&]list-type=2/.test(q.url) ? "LIST" : q.method;
            kinds[k] = (kinds[k] ?? 0) + 1;
          }
          w[name].copy.push(copy.seconds);
          w[name].copyCpu.push(copy.cpuSeconds);
          w[name].noop.push(noop.seconds);
          w[name].noopRequests.push(kinds);
          // Ours says how its copy split into listing, hashing and sending.
          const phases = name === "ours" ? JSON.parse(copy.stdout.trim().split("\n").pop()) : undefined;
          if (phases) (w[name].phases ??= []).push(phases);
          const split = phases ? ` [list ${phases.listSeconds.toFixed(2)} s, hash ${phases.hashSeconds.toFixed(2)} s, send ${phases.copySeconds.toFixed(2)} s]` : "";
          log(`${key} run ${r + 1} ${name}: copy ${copy.seconds.toFixed(2)} s${split} (cpu ${copy.cpuSeconds?.toFixed(2)} s; servers' cpu ${copy.emulatorCpuSeconds.toFixed(2)} s), no-op ${noop.seconds.toFixed(2)} s, source requests ${JSON.stringify(kinds)}`);
          await stage.clear(prefix);
        }
      }
      const best = Math.min(...Object.entries(w).filter(([n]) => n !== "ours").map(([, v]) => summary(v.copy).median));
      for (const [name, v] of Object.entries(w)) {
        v.copySummary = summary(v.copy);
        v.noopSummary = summary(v.noop);
        rows.push([key, name, secs(v.copySummary.median), `${secs(v.copySummary.min)}–${secs(v.copySummary.max)}`, (v.copySummary.median / best).toFixed(2) + "x", secs(summary(v.copyCpu).median), secs(v.noopSummary.median), JSON.stringify(v.noopRequests[0])]);
      }
    }
  } finally {
    await proxy.close();
    await fake.stop();
    await stage.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  console.log(`\nfrom ${results.source} into the emulator, ${RUNS} runs per tool, medians; ${results.versions.rclone}; ${results.versions.rcloneNew}\n`);
  console.log(table(["workload", "tool", "copy", "range", "vs fastest rclone", "cpu", "no-op", "no-op source requests"], rows));
  results.targets = [];
  for (const [key, w] of Object.entries(results.workloads)) {
    const fastest = Math.min(w["rclone 1.76 copy"].copySummary.median, w["rclone 1.60 copy"].copySummary.median);
    results.targets.push({ name: `${key}: ours ${secs(w.ours.copySummary.median)} at least as fast as rclone's fastest ${secs(fastest)}`, pass: w.ours.copySummary.median <= fastest });
    const lists = Math.ceil(SETS[key.split(" ")[0]][0] / 1000);
    const reqs = w.ours.noopRequests;
    results.targets.push({ name: `${key}: ours' no-op reads the source with ${lists} listing(s) and no GET (${JSON.stringify(reqs[0])})`, pass: reqs.every((k) => (k.LIST ?? 0) <= lists && Object.keys(k).every((m) => m === "LIST")) });
  }
  results.seconds = (Date.now() - t0) / 1000;
  finish(results, { title: "Issue 18's targets (object copy):", name: "object-copy-latest.json" });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
