#!/usr/bin/env node
// `npm run bench:all`: every benchmark target of issues 12, 18 and 20 in one
// run, one harness after the other so none shares the machine with another:
// the upload workloads (bench/run.js), the same against a second server
// (second-server.js), large files under the real CLI (engine-large.js), the
// engine at 1,000 and 100,000 files under the real CLI (engine.js) and the
// copy from another object store (object-copy.js). Each harness prints its
// own table and writes its own results; this prints every target once more,
// together, with the load at the start of its harness, and writes
// bench/results/all-latest.json. A harness that fails is reported as such
// and the others still run.
//
//   node bench/all.js [--quick]   (--quick: every harness's smoke size)
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");

const { values: opts } = parseArgs({ options: { quick: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
if (opts.help) {
  console.log("node bench/all.js [--quick]");
  process.exit(0);
}
const quick = opts.quick ? ["--quick"] : [];
const RESULTS = path.join(__dirname, "results");

/** The harnesses in the order they run, the results file each writes. */
const HARNESSES = [
  { name: "upload workloads (bench/run.js)", script: "run.js", args: quick, results: "latest.json" },
  { name: "second server (bench/second-server.js)", script: "second-server.js", args: opts.quick ? quick : ["--runs", "3"], results: "second-server-latest.json" },
  { name: "large files under the CLI (bench/engine-large.js)", script: "engine-large.js", args: quick, results: "engine-large-latest.json" },
  { name: "engine under the CLI (bench/engine.js)", script: "engine.js", args: quick, results: "engine-latest.json" },
  { name: "object copy (bench/object-copy.js)", script: "object-copy.js", args: quick, results: "object-copy-latest.json" },
];

function main() {
  const t0 = Date.now();
  const sections = [];
  for (const h of HARNESSES) {
    const out = path.join(RESULTS, h.results);
    fs.rmSync(out, { force: true });
    const load = os.loadavg()[0];
    const started = Date.now();
    console.error(`\n===== ${h.name}, 1-minute load ${load.toFixed(2)} =====`);
    const r = spawnSync(process.execPath, [path.join(__dirname, h.script), ...h.args], { stdio: "inherit" });
    const seconds = (Date.now() - started) / 1000;
    if (r.status !== 0 || !fs.existsSync(out)) {
      sections.push({ name: h.name, load, seconds, failed: `exited with ${r.status ?? r.signal}` });
      continue;
    }
    const results = JSON.parse(fs.readFileSync(out, "utf8"));
    sections.push({ name: h.name, load, seconds, when: results.when, targets: results.targets ?? [] });
  }
  const all = { when: new Date(t0).toISOString(), node: process.version, cpus: os.availableParallelism(), seconds: (Date.now() - t0) / 1000, sections };
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, "all-latest.json"), JSON.stringify(all, null, 2) + "\n");

  console.log(`\nevery target, ${all.when}, ${all.cpus} cores, Node ${all.node}, ${(all.seconds / 60).toFixed(1)} minutes:`);
  let missed = 0;
  for (const s of sections) {
    console.log(`\n${s.name}: 1-minute load ${s.load.toFixed(2)} at its start, ${s.seconds.toFixed(0)} s`);
    if (s.failed) {
      console.log(`  FAILED  ${s.failed}`);
      missed++;
      continue;
    }
    for (const t of s.targets) {
      console.log(`  ${t.pass ? "PASS" : "MISS"}  ${t.name}`);
      if (!t.pass) missed++;
    }
  }
  console.log(`\n${missed === 0 ? "every target met" : `${missed} missed or failed`}; results: ${path.relative(process.cwd(), path.join(RESULTS, "all-latest.json"))}`);
}

main();
