// Loaded with `node --require` (NODE_OPTIONS) into every node process of a
// CLI command when BENCH_MEM_DIR is set (bench/engine.js passes it on): the
// program and the dynamic provider record process.memoryUsage() every
// 200 ms, so a peak of RSS can be told apart into V8's heap (committed and
// in use), memory outside it and ArrayBuffers, which /proc alone cannot. At
// exit (including the engine's SIGINT or SIGTERM to a plugin) each writes
// $BENCH_MEM_DIR/mem.<role>.<pid>.json: the sample at its peak RSS and the
// whole timeline, in MiB. With BENCH_HEAP_SNAPSHOT_MIB it also writes one
// heap snapshot when its RSS first passes that many MiB (a snapshot stops the
// process for seconds and collects garbage first: it shows what is live, not
// what was allocated).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const v8 = require("node:v8");

const dir = process.env.BENCH_MEM_DIR;
const script = process.argv[1] ?? "";
const role = /cmd[/\\]dynamic-provider/.test(script) ? "provider" : /@pulumi[/\\]pulumi[/\\]cmd[/\\]run/.test(script) ? "program" : undefined;
if (dir && role) {
  const MiB = 1024 * 1024;
  const started = Date.now();
  const snapshotAt = Number(process.env.BENCH_HEAP_SNAPSHOT_MIB ?? 0) * MiB;
  const samples = [];
  let peak;
  let snapshot;
  const sample = () => {
    const m = process.memoryUsage();
    const s = { t: (Date.now() - started) / 1000 };
    for (const [k, v] of Object.entries(m)) s[k] = Math.round(v / MiB);
    samples.push(s);
    if (!peak || s.rss > peak.rss) peak = s;
    if (snapshotAt > 0 && !snapshot && m.rss > snapshotAt) snapshot = v8.writeHeapSnapshot(path.join(dir, `${role}.${process.pid}.heapsnapshot`));
  };
  setInterval(sample, 200).unref();
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    sample();
    fs.writeFileSync(path.join(dir, `mem.${role}.${process.pid}.json`), JSON.stringify({ role, pid: process.pid, peak, snapshot, samples }));
  };
  process.on("exit", write);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.once(sig, () => {
      write();
      process.kill(process.pid, sig);
    });
  }
}
