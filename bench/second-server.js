#!/usr/bin/env node
// `npm run bench:second-server`: workloads 1 (small files) and 2 (large
// files) of `npm run bench` against a third-party S3 server instead of our
// emulator, so that no figure depends on how our own server answers:
// gofakes3 (github.com/johannesboyne/gofakes3, memory backend), built once
// from its Go module into the cache like the Pulumi CLI. It checks no
// signature, so every tool gets made-up keys. Same tools, same order, same
// checks of what arrived (here by listing the bucket). Writes
// bench/results/second-server-latest.json.
//
//   node bench/second-server.js [--runs 5] [--quick]
"use strict";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { ListObjectsV2Command, DeleteObjectsCommand } = require("@aws-sdk/client-s3");
const { generate } = require("./lib/data");
const { preflight } = require("./lib/machine");
const { finish } = require("./lib/results");
const { summary } = require("./lib/stats");
const { table, secs } = require("./lib/table");
const { ensurePeers, Runner, peers, versions } = require("./lib/tools");
const { GOFAKES3_VERSION, ensureGofakes3, startGofakes3 } = require("../scripts/gofakes3");
const { createS3Client } = require("../dist/provider/upload/s3");

const { values: opts } = parseArgs({ options: { runs: { type: "string" }, quick: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (opts.help) {
  console.log("node bench/second-server.js [--runs 5] [--quick]   (--quick: 200 small files and 2 of 32 MiB)");
  process.exit(0);
}
const MiB = 1024 * 1024;
const RUNS = Number(opts.runs ?? 5);
const SIZES = opts.quick ? { small: [200, 32 * 1024], large: [2, 32 * MiB] } : { small: [2000, 32 * 1024], large: [4, 256 * MiB] };
const OURS = path.join(__dirname, "lib", "ours.js");
const BUCKET = "bench";
const log = (...a) => console.error(...a);

async function main() {
  const t0 = Date.now();
  const machine = preflight({ needGiB: 3, log });
  ensurePeers(log);
  ensureGofakes3(log);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-bench-second-"));
  const server = await startGofakes3(BUCKET);
  const { port } = server;
  const expireTime = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
  // An apply answer as the service would give it, pointing at gofakes3 (which checks no signature).
  const target = {
    stageName: "bench",
    endpoint: `http://127.0.0.1:${port}`,
    bucketName: BUCKET,
    region: "us-east-1",
    stagePrefix: "stages/bench/",
    prefix: "stages/bench/",
    condition: { maxContentLength: 0 },
    credentials: { tmpAK: "AKIDBENCH", tmpSK: "bench-secret", sessionToken: "bench-token", expireTime },
  };
  const targetFile = path.join(work, "target.json");
  fs.writeFileSync(targetFile, JSON.stringify(target));
  const s3 = createS3Client(target);
  const runner = new Runner(work);
  const tools = { ours: (dir, prefix) => runner.run(process.execPath, [OURS, "upload", dir, prefix, targetFile]), ...peers(runner, target, work) };

  async function listed(prefix) {
    const out = [];
    let ContinuationToken;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: target.prefix + prefix, ContinuationToken }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key, size: o.Size });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out;
  }
  async function clear(prefix) {
    const keys = await listed(prefix);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.slice(i, i + 1000).map((o) => ({ Key: o.key })), Quiet: true } }));
    }
  }

  const names = ["ours", "aws s3 cp", "rclone copy", "rclone 1.76 copy"];
  const results = { machine, versions: versions(), server: `gofakes3 ${GOFAKES3_VERSION} (memory backend)`, runs: RUNS, workloads: {} };
  const rows = [];
  try {
    for (const [key, [count, size]] of Object.entries(SIZES)) {
      const dir = path.join(work, key);
      generate(dir, { count, size, seed: `second-${key}` });
      const m = Object.fromEntries(names.map((t) => [t, { seconds: [], cpu: [] }]));
      for (let r = 0; r < RUNS; r++) {
        for (const t of names) {
          const prefix = `${key}/${t.replace(/\W+/g, "-")}/${r}/`;
          const res = await tools[t](dir, prefix);
          const arrived = await listed(prefix);
          if (arrived.length !== count || arrived.reduce((s, o) => s + o.size, 0) !== count * size) {
            throw new Error(`${t} left ${arrived.length} objects under ${prefix}, expected ${count} of ${size} B`);
          }
          m[t].seconds.push(res.seconds);
          m[t].cpu.push(res.cpuSeconds ?? NaN);
          log(`  ${key} ${count}×${size / 1024} KiB: ${t} run ${r + 1}/${RUNS}: ${res.seconds.toFixed(2)} s, ${res.cpuSeconds?.toFixed(2)} s CPU`);
          await clear(prefix);
        }
      }
      const w = { count, size, tools: {} };
      for (const t of names) w.tools[t] = { seconds: summary(m[t].seconds), cpuSeconds: summary(m[t].cpu) };
      results.workloads[key] = w;
      const base = w.tools.ours.seconds.median;
      for (const t of names) {
        const o = w.tools[t];
        rows.push([`${key} ${count}×${size >= MiB ? `${size / MiB}M` : `${size / 1024}K`}`, t, secs(o.seconds.median), `${secs(o.seconds.min)}–${secs(o.seconds.max)}`, (o.seconds.median / base).toFixed(2) + "x", secs(o.cpuSeconds.median)]);
      }
    }
  } finally {
    s3.destroy();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }

  console.log(`\nagainst ${results.server}, ${RUNS} runs per tool, medians; ${results.versions.awscli}; ${results.versions.rclone}; ${results.versions.rcloneNew}\n`);
  console.log(table(["workload", "tool", "median s", "min–max s", "vs ours", "cpu s"], rows));
  const targets = [];
  const fastest = (w) => Object.entries(w.tools).filter(([k]) => k !== "ours").sort((a, b) => a[1].seconds.median - b[1].seconds.median)[0];
  for (const key of Object.keys(SIZES)) {
    const w = results.workloads[key];
    const [name, f] = fastest(w);
    const o = w.tools.ours;
    targets.push({ name: `${key}: at least as fast as the fastest peer (ours ${secs(o.seconds.median)} s, ${name} ${secs(f.seconds.median)} s)`, pass: o.seconds.median <= f.seconds.median });
  }
  const small = results.workloads.small.tools;
  targets.push({ name: `small: at least 2x aws s3 cp (got ${(small["aws s3 cp"].seconds.median / small.ours.seconds.median).toFixed(2)}x)`, pass: small["aws s3 cp"].seconds.median >= 2 * small.ours.seconds.median });
  const large = results.workloads.large.tools;
  const cpu = large.ours.cpuSeconds.median / large["aws s3 cp"].cpuSeconds.median;
  targets.push({ name: `large: our CPU at most 0.6x aws s3 cp's (got ${cpu.toFixed(2)}x)`, pass: cpu <= 0.6 });
  results.targets = targets;
  results.seconds = (Date.now() - t0) / 1000;
  finish(results, { title: "targets (issue 20, second server):", name: "second-server-latest.json" });
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
