#!/usr/bin/env node
// `npm run bench:engine-large`: the client's CPU for large files, the way
// users pay it. One `pulumi up --skip-preview` of a Stage and a StagedFiles
// over 4 files of 256 MiB under the REAL CLI (check, diff and create in one
// provider process), against `aws s3 cp --recursive` of the same files to
// the same emulator, in turns. The emulator runs in this process, so its
// CPU is not in either client's figure. Target (issue 20): the provider's
// CPU per GiB at most 0.6x awscli's. Writes bench/results/engine-large-latest.json.
//
//   node bench/engine-large.js [--runs 3] [--quick] [--profile]
"use strict";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { generate } = require("./lib/data");
const { openStage } = require("./lib/stage");
const { preflight } = require("./lib/machine");
const { finish } = require("./lib/results");
const { sampleTree } = require("./lib/proctree");
const { profiling, nodeProfiles } = require("./lib/profile");
const { median } = require("./lib/stats");
const { ensurePeers, Runner, peers, versions } = require("./lib/tools");
const { createWorkspace } = require("../scripts/workspace");

const { values: opts } = parseArgs({ options: { runs: { type: "string" }, quick: { type: "boolean" }, profile: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (opts.help) {
  console.log("node bench/engine-large.js [--runs 3] [--quick] [--profile]");
  console.log("  --quick: 2 files of 32 MiB; --profile: one more up under the CPU profilers (not in the figures), its provider's top functions printed");
  process.exit(0);
}
const MiB = 1024 * 1024;
const RUNS = Number(opts.runs ?? 3);
const COUNT = opts.quick ? 2 : 4;
const SIZE = (opts.quick ? 32 : 256) * MiB;
const GiB = (COUNT * SIZE) / (1024 * MiB);
const PROGRAM = path.join(__dirname, "engine-program");
const log = (...a) => console.error(...a);

async function main() {
  const t0 = Date.now();
  const machine = preflight({ needGiB: 2 * GiB + 1, log });
  ensurePeers(log);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-bench-large-"));
  const dir = path.join(work, "files");
  generate(dir, { count: COUNT, size: SIZE, seed: "engine-large" });
  // awscli writes into the stage openStage makes, with its apply answer's credentials.
  const stage = await openStage(work);
  const { emu, target } = stage;
  const awsCp = peers(new Runner(work), target, work)["aws s3 cp"];
  const ws = createWorkspace(PROGRAM, { stack: "dev" });
  const rows = { ours: [], aws: [] };
  let profile;
  try {

    await ws.init();
    await ws.useEmulator(emu);
    await ws.must(["config", "set", "stageName", "large"]);
    await ws.must(["config", "set", "source", dir]);
    // Its files are random bytes, not rows an import could read: the Stage and StagedFiles alone.
    await ws.must(["config", "set", "import", "false"]);

    for (let run = 1; run <= RUNS; run++) {
      let sampler;
      const cpu0 = process.cpuUsage();
      const started = process.hrtime.bigint();
      const res = await ws.run(["up", "--yes", "--skip-preview"], { onSpawn: (child) => (sampler = sampleTree(child.pid, { intervalMs: 50 })) });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const tree = sampler.stop();
      if (res.code !== 0) throw new Error(`pulumi up exited ${res.code}: ${(res.stdout + res.stderr).slice(-2000)}`);
      const arrived = emu.listObjects("stages/proj-bench/large/data/");
      if (arrived.length !== COUNT || arrived.some((o) => o.size !== SIZE)) throw new Error(`the up stored ${arrived.length} objects, expected ${COUNT} of ${SIZE} B`);
      const cpu = process.cpuUsage(cpu0);
      rows.ours.push({ seconds, providerCpuSeconds: tree.roles.provider?.cpuSeconds ?? NaN, cliCpuSeconds: tree.roles.cli?.cpuSeconds, emulatorCpuSeconds: (cpu.user + cpu.system) / 1e6 });
      log(`run ${run} ours: ${seconds.toFixed(2)} s, provider ${rows.ours.at(-1).providerCpuSeconds.toFixed(2)} s CPU`);
      await ws.must(["destroy", "--yes", "--skip-preview"]);

      const prefix = `run-${run}/`;
      const aws = await awsCp(dir, prefix);
      const copied = emu.listObjects(`${target.stagePrefix}${prefix}`);
      if (copied.length !== COUNT) throw new Error(`aws s3 cp stored ${copied.length} objects, expected ${COUNT}`);
      rows.aws.push({ seconds: aws.seconds, cpuSeconds: aws.cpuSeconds, emulatorCpuSeconds: aws.emulatorCpuSeconds });
      log(`run ${run} aws s3 cp: ${aws.seconds.toFixed(2)} s, ${aws.cpuSeconds?.toFixed(2)} s CPU`);
      await stage.clear(prefix);
    }
    if (opts.profile) profile = await profiledUp(ws, work);
  } finally {
    ws.cleanup();
    await stage.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const ours = median(rows.ours.map((r) => r.providerCpuSeconds)) / GiB;
  const aws = median(rows.aws.map((r) => r.cpuSeconds)) / GiB;
  const ratio = ours / aws;
  const summary = {
    files: `${COUNT} x ${SIZE / MiB} MiB`,
    runs: RUNS,
    oursWallSeconds: median(rows.ours.map((r) => r.seconds)),
    awsWallSeconds: median(rows.aws.map((r) => r.seconds)),
    oursCpuPerGiB: ours,
    awsCpuPerGiB: aws,
    ratio,
  };
  console.log(`\n${summary.files}, ${RUNS} runs, medians`);
  console.log(`ours (provider process, pulumi up --skip-preview): ${summary.oursWallSeconds.toFixed(2)} s wall, ${ours.toFixed(2)} s CPU per GiB`);
  console.log(`aws s3 cp --recursive:                             ${summary.awsWallSeconds.toFixed(2)} s wall, ${aws.toFixed(2)} s CPU per GiB`);
  const targets = [{ name: `provider CPU per GiB <= 0.6x awscli's (got ${ratio.toFixed(2)}x)`, pass: ratio <= 0.6 }];
  if (profile) {
    console.log("\nprofiled up, provider main thread (the hashing workers are not in a V8 profile):");
    for (const f of profile.functions.slice(0, 12)) console.log(`  ${f.seconds.toFixed(2)} s  ${f.name}`);
  }
  finish({ machine, versions: versions(), summary, rows, profile, targets, seconds: (Date.now() - t0) / 1000 }, { title: "Target (issue 20)", name: "engine-large-latest.json" });
}

/** One more up with V8 profilers in every node process; the provider's summary. */
async function profiledUp(ws, work) {
  await ws.must(["destroy", "--yes", "--skip-preview"]);
  const dir = path.join(work, "profile");
  const p = profiling(dir);
  const pids = new Map();
  let sampler;
  const res = await ws.run([...p.args, "up", "--yes", "--skip-preview"], { extraEnv: p.env, onSpawn: (child) => (sampler = sampleTree(child.pid, { intervalMs: 50 })) });
  for (const x of sampler.stop().processes) pids.set(x.pid, x.role);
  if (res.code !== 0) throw new Error(`profiled pulumi up exited ${res.code}: ${res.stderr.slice(-2000)}`);
  return nodeProfiles(dir, (pid) => pids.get(pid)).find((x) => x.role === "provider");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
