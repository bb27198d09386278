#!/usr/bin/env node
// `npm run bench`: our upload engine beside awscli and rclone, against the
// same emulator S3 endpoint with the same temporary credentials, plus the
// physical limits (openssl's single-core SHA-256, a plain read). Prints a
// table and writes bench/results/latest.json. See bench/README.md.
//
//   node bench/run.js [--quick] [--runs N] [--only small,large,incremental,noop,memory,hash]
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { S3Client, ListObjectsV2Command, DeleteObjectsCommand } = require("@aws-sdk/client-s3");
const { startEmulator } = require("../dist/provider/emulator");
const { StageClient } = require("../dist/provider/client");
const { generate, touch, listFiles } = require("./lib/data");
const { summary } = require("./lib/stats");

const { values: opts } = parseArgs({
  options: { quick: { type: "boolean" }, runs: { type: "string" }, only: { type: "string" } },
});
const QUICK = !!opts.quick;
const RUNS = Number(opts.runs ?? (QUICK ? 1 : 5));
const ONLY = opts.only ? new Set(opts.only.split(",")) : undefined;
const OURS = path.join(__dirname, "lib", "ours.js");
const MiB = 1024 * 1024;

const sizes = QUICK
  ? { small: [200, 32 * 1024], large: [2, 32 * MiB], incr: [1000, 4096], noop: [1000, 100 * 1024], memory: 10_000 }
  : { small: [2000, 32 * 1024], large: [4, 256 * MiB], incr: [10_000, 4096], noop: [10_000, 100 * 1024], memory: 100_000 };

/** Debian's packages for the peers, installed when missing. */
function ensurePeers() {
  const missing = ["/usr/bin/aws", "/usr/bin/rclone", "/usr/bin/openssl"].filter((p) => !fs.existsSync(p));
  if (missing.length === 0) return;
  console.error(`installing peers from Debian (${missing.join(", ")} missing)...`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "awscli", "rclone", "openssl"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const fullEnv = { ...process.env, ...env };
    // A CA bundle meant for https makes rclone refuse its plain-http transport.
    for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k];
    const child = spawn(cmd, args, { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ seconds, stdout, stderr });
    });
  });
}

async function main() {
  ensurePeers();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-bench-"));
  const emu = await startEmulator({ dataDir: path.join(work, "emulator"), credentialTtlSeconds: 24 * 3600, maxContentLength: 64 * 1024 ** 3 });
  const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
  await client.createStage({ projectId: "bench", regionId: "local", stageName: "bench" });
  const target = await client.applyUploadTarget({ stageName: "bench", path: "" });
  await client.close();
  const targetFile = path.join(work, "target.json");
  fs.writeFileSync(targetFile, JSON.stringify(target));
  const c = target.credentials;
  const bucketBase = `${target.bucketName}/${target.stagePrefix}`;

  const awsConfig = path.join(work, "aws-config");
  fs.writeFileSync(awsConfig, "[default]\ns3 =\n  addressing_style = path\n");
  const awsEnv = {
    AWS_ACCESS_KEY_ID: c.tmpAK, AWS_SECRET_ACCESS_KEY: c.tmpSK, AWS_SESSION_TOKEN: c.sessionToken,
    AWS_DEFAULT_REGION: target.region, AWS_CONFIG_FILE: awsConfig, AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  const rcloneEnv = {
    RCLONE_CONFIG_STAGE_TYPE: "s3", RCLONE_CONFIG_STAGE_PROVIDER: "Other",
    RCLONE_CONFIG_STAGE_ACCESS_KEY_ID: c.tmpAK, RCLONE_CONFIG_STAGE_SECRET_ACCESS_KEY: c.tmpSK,
    RCLONE_CONFIG_STAGE_SESSION_TOKEN: c.sessionToken, RCLONE_CONFIG_STAGE_ENDPOINT: target.endpoint,
    RCLONE_CONFIG_STAGE_REGION: target.region, RCLONE_CONFIG_STAGE_FORCE_PATH_STYLE: "true",
    RCLONE_CONFIG_STAGE_NO_CHECK_BUCKET: "true", RCLONE_CONFIG: "/dev/null", AWS_CA_BUNDLE: undefined,
  };
  const s3 = new S3Client({
    endpoint: target.endpoint, region: target.region, forcePathStyle: true,
    credentials: { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken },
  });
  async function clear(prefix) {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: target.stagePrefix + prefix }));
      if (!page.Contents?.length) return;
      await s3.send(new DeleteObjectsCommand({ Bucket: target.bucketName, Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key })), Quiet: true } }));
    }
  }
  const sentBytes = (prefix) =>
    emu.requests().filter((r) => (r.kind === "s3:put" || r.kind === "s3:part") && r.key?.startsWith(target.stagePrefix + prefix)).reduce((s, r) => s + r.bytes, 0);

  const tools = {
    ours: (dir, prefix, extra = []) => run(process.execPath, [OURS, "upload", dir, prefix, targetFile, ...extra]),
    "aws s3 cp": (dir, prefix) => run("/usr/bin/aws", ["s3", "cp", "--recursive", "--quiet", "--endpoint-url", target.endpoint, dir, `s3://${bucketBase}${prefix}`], awsEnv),
    "aws s3 sync": (dir, prefix) => run("/usr/bin/aws", ["s3", "sync", "--quiet", "--endpoint-url", target.endpoint, dir, `s3://${bucketBase}${prefix}`], awsEnv),
    "rclone copy": (dir, prefix) => run("/usr/bin/rclone", ["copy", dir, `stage:${bucketBase}${prefix}`], rcloneEnv),
  };

  const results = { machine: { cpus: os.availableParallelism(), node: process.version, quick: QUICK, runs: RUNS }, workloads: {} };
  const rows = [];
  const want = (w) => !ONLY || ONLY.has(w);

  /** Alternates the tools run by run; returns seconds per tool. */
  async function uploadRace(name, dir, toolNames) {
    const times = Object.fromEntries(toolNames.map((t) => [t, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const t of toolNames) {
        const prefix = `${name.replace(/\W+/g, "-")}/${t.replace(/\W+/g, "-")}/${r}/`;
        const res = await tools[t](dir, prefix);
        console.error(`  ${name}: ${t} run ${r + 1}/${RUNS}: ${res.seconds.toFixed(2)} s`);
        times[t].push(res.seconds);
        await clear(prefix);
      }
    }
    const out = Object.fromEntries(toolNames.map((t) => [t, summary(times[t])]));
    for (const t of toolNames) rows.push([name, t, out[t].median, out[t].min, out[t].max, out[t].median / out.ours.median]);
    return out;
  }

  if (want("small")) {
    const [count, size] = sizes.small;
    const dir = path.join(work, "small");
    generate(dir, { count, size, seed: "small" });
    results.workloads.small = { count, size, seconds: await uploadRace("1 small files", dir, ["ours", "aws s3 cp", "rclone copy"]) };
    fs.rmSync(dir, { recursive: true });
  }

  if (want("large") || want("hash")) {
    const [count, size] = sizes.large;
    const dir = path.join(work, "large");
    generate(dir, { count, size, seed: "large" });
    if (want("large")) results.workloads.large = { count, size, seconds: await uploadRace("2 large files", dir, ["ours", "aws s3 cp", "rclone copy"]) };
    if (want("hash")) {
      const files = listFiles(dir);
      const t = { ours: [], openssl: [], read: [] };
      for (let r = 0; r < RUNS; r++) {
        const o = await run(process.execPath, [OURS, "scan", dir, "--force"]);
        t.ours.push(JSON.parse(o.stdout).seconds);
        t.openssl.push((await run("/usr/bin/openssl", ["dgst", "-sha256", ...files])).seconds);
        t.read.push((await run("/bin/sh", ["-c", `cat "$@" > /dev/null`, "sh", ...files])).seconds);
      }
      const bytes = count * size;
      const s = { ours: summary(t.ours), openssl: summary(t.openssl), read: summary(t.read) };
      const perCore = (s.openssl.median / s.ours.median) / Math.min(os.availableParallelism(), count);
      results.workloads.hash = { bytes, seconds: s, oursVsOpensslWall: s.openssl.median / s.ours.median, oursPerCoreVsOpenssl: perCore };
      for (const k of ["ours", "openssl", "read"]) rows.push(["hash " + (bytes / MiB).toFixed(0) + " MiB", k === "ours" ? "ours (scan --force)" : k === "openssl" ? "openssl dgst -sha256 (1 core)" : "cat > /dev/null", s[k].median, s[k].min, s[k].max, s[k].median / s.ours.median]);
    }
    fs.rmSync(dir, { recursive: true });
  }

  if (want("incremental")) {
    const [count, size] = sizes.incr;
    const dir = path.join(work, "incr");
    generate(dir, { count, size, seed: "incr" });
    const manifest = path.join(work, "incr-manifest.json");
    // First runs (not timed): every tool seeds its own prefix.
    await run(process.execPath, [OURS, "upload", dir, "incr/ours/", targetFile, "-", manifest]);
    await tools["aws s3 sync"](dir, "incr/aws/");
    await tools["rclone copy"](dir, "incr/rclone/");
    touch(dir, { count, size, n: 10 });
    emu.clearRequests();
    const ours = await run(process.execPath, [OURS, "upload", dir, "incr/ours/", targetFile, manifest]);
    const aws = await tools["aws s3 sync"](dir, "incr/aws/");
    const rcl = await tools["rclone copy"](dir, "incr/rclone/");
    const w = {
      count, size, changed: 10, changedBytes: 10 * size,
      ours: { seconds: ours.seconds, bytesSent: sentBytes("incr/ours/") },
      "aws s3 sync": { seconds: aws.seconds, bytesSent: sentBytes("incr/aws/") },
      "rclone copy": { seconds: rcl.seconds, bytesSent: sentBytes("incr/rclone/") },
    };
    results.workloads.incremental = w;
    for (const t of ["ours", "aws s3 sync", "rclone copy"]) rows.push(["3 incremental (10 changed)", `${t} (${w[t].bytesSent} B sent)`, w[t].seconds, w[t].seconds, w[t].seconds, w[t].seconds / w.ours.seconds]);
    await clear("incr/");
    fs.rmSync(dir, { recursive: true });
  }

  if (want("noop")) {
    const [count, size] = sizes.noop;
    const dir = path.join(work, "noop");
    generate(dir, { count, size, seed: "noop" });
    const manifest = path.join(work, "noop-manifest.json");
    await run(process.execPath, [OURS, "scan", dir, "--force", manifest]);
    const t = { replan: [], rehash: [] };
    for (let r = 0; r < RUNS; r++) {
      const a = JSON.parse((await run(process.execPath, [OURS, "scan", dir, manifest])).stdout);
      if (a.toUpload !== 0 || a.hashedBytes !== 0) throw new Error("no-op re-plan read or planned something");
      t.replan.push(a.seconds);
      t.rehash.push(JSON.parse((await run(process.execPath, [OURS, "scan", dir, "--force"])).stdout).seconds);
    }
    const s = { replan: summary(t.replan), rehash: summary(t.rehash) };
    results.workloads.noop = { count, size, seconds: s, ratio: s.replan.median / s.rehash.median };
    rows.push(["4 no-op re-plan", "ours (scan with cache + plan)", s.replan.median, s.replan.min, s.replan.max, 1]);
    rows.push(["4 no-op re-plan", "ours full re-hash", s.rehash.median, s.rehash.min, s.rehash.max, s.rehash.median / s.replan.median]);
    fs.rmSync(dir, { recursive: true });
  }

  if (want("memory")) {
    const count = sizes.memory;
    const dir = path.join(work, "memory");
    generate(dir, { count, size: 64, seed: "mem" });
    const r = JSON.parse((await run(process.execPath, [OURS, "scan", dir, "--force"])).stdout);
    results.workloads.memory = { count, maxRssMiB: r.maxRssKiB / 1024, seconds: r.seconds };
    rows.push([`5 memory: scan+plan ${count} files`, `peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`, r.seconds, r.seconds, r.seconds, 1]);
    fs.rmSync(dir, { recursive: true });
  }

  s3.destroy();
  await emu.stop();
  fs.rmSync(work, { recursive: true, force: true });

  // Targets.
  const W = results.workloads;
  const targets = [];
  const fastestPeer = (w) => Math.min(...Object.entries(w.seconds).filter(([k]) => k !== "ours").map(([, v]) => v.median));
  if (W.small) {
    targets.push(["(1) small files: at least as fast as the fastest peer", W.small.seconds.ours.median <= fastestPeer(W.small)]);
    targets.push(["(1) small files: at least 2x awscli", W.small.seconds["aws s3 cp"].median / W.small.seconds.ours.median >= 2]);
  }
  if (W.large) targets.push(["(2) large files: at least as fast as the fastest peer", W.large.seconds.ours.median <= fastestPeer(W.large)]);
  if (W.hash) targets.push([`hashing: >= 0.9x openssl per core (got ${W.hash.oursPerCoreVsOpenssl.toFixed(2)}x per core, ${W.hash.oursVsOpensslWall.toFixed(2)}x wall)`, W.hash.oursPerCoreVsOpenssl >= 0.9]);
  if (W.incremental) targets.push([`(3) incremental sends only the changed bytes (${W.incremental.ours.bytesSent} of ${W.incremental.changedBytes})`, W.incremental.ours.bytesSent === W.incremental.changedBytes]);
  if (W.noop) targets.push([`(4) no-op re-plan <= 5% of a full re-hash (got ${(W.noop.ratio * 100).toFixed(1)}%)`, W.noop.ratio <= 0.05]);
  if (W.memory) targets.push([`(5) peak RSS < 256 MiB for ${W.memory.count} files (got ${W.memory.maxRssMiB.toFixed(0)} MiB)`, W.memory.maxRssMiB < 256]);
  results.targets = targets.map(([name, pass]) => ({ name, pass }));

  const fmt = (x) => x.toFixed(3).padStart(8);
  console.log(`\n${"workload".padEnd(34)} ${"tool".padEnd(34)} ${"median s".padStart(8)} ${"min".padStart(8)} ${"max".padStart(8)}  vs ours`);
  for (const [w, t, med, min, max, ratio] of rows) console.log(`${w.padEnd(34)} ${t.padEnd(34)} ${fmt(med)} ${fmt(min)} ${fmt(max)}  ${ratio.toFixed(2)}x`);
  console.log("\ntargets:");
  for (const [name, pass] of targets) console.log(`  ${pass ? "PASS" : "MISS"}  ${name}`);
  const out = path.join(__dirname, "results", "latest.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`\nresults: ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
