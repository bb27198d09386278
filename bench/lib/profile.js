// Where one CLI command spends its CPU, process by process: the Go CLI's own
// CPU profile (`pulumi --profiling`, read with `go tool pprof`) and a V8 CPU
// profile of every node process under it (started by cpu-prof-preload.js): the
// program and the dynamic provider. Summaries only: the top functions and
// the share of each package.
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { findGo } = require("../../scripts/go-tools");

/** The arguments and environment that make one `pulumi` command write its profiles into dir. */
function profiling(dir) {
  fs.mkdirSync(path.join(dir, "node"), { recursive: true });
  return {
    args: ["--profiling", path.join(dir, "cli")],
    env: { NODE_OPTIONS: `--require ${path.join(__dirname, "cpu-prof-preload.js")}`, BENCH_CPU_PROF_DIR: path.join(dir, "node") },
  };
}

/** `go tool pprof -top` of the CLI's CPU profile: the heaviest functions by own time and by cumulative time. */
function cliProfile(dir) {
  const file = fs.readdirSync(dir).find((f) => /^cli\.\d+\.cpu$/.test(f));
  if (!file) return { error: "the CLI wrote no CPU profile" };
  const go = findGo();
  if (!go) return { error: "no Go toolchain to read the CLI's profile" };
  const top = (extra) =>
    execFileSync(go, ["tool", "pprof", "-top", "-nodecount=25", ...extra, path.join(dir, file)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      .split("\n")
      .filter((l) => l.trim());
  return { file, flat: top([]), cumulative: top(["-cum"]) };
}

/** The package a V8 frame's script belongs to: a node_modules package, this project's dist/, node's own, or the engine's. */
function packageOf(url) {
  if (!url) return "(v8: gc, idle, native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith("node:")) return "node (built-in)";
  const dist = url.indexOf("/dist/provider/");
  if (dist >= 0) return `pulumi-zilliz-stages ${url.slice(dist + "/dist/".length).split("/").slice(0, 2).join("/")}`;
  return url.replace(/^file:\/\//, "");
}

/** Self time per function and per package from one .cpuprofile. */
function summarizeCpuProfile(file) {
  const prof = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the sample after it closes its interval.
    const dt = prof.timeDeltas[i + 1] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fn = new Map();
  const pkg = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    total += us;
    if (cf.functionName === "(idle)") continue;
    const where = `${cf.functionName || "(anonymous)"} ${cf.url ? `${packageOf(cf.url)}:${cf.lineNumber + 1}` : ""}`.trim();
    fn.set(where, (fn.get(where) ?? 0) + us);
    const p = packageOf(cf.url);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
  }
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === "(idle)").reduce((s, [, us]) => s + us, 0);
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, seconds: us / 1e6 }));
  return { seconds: total / 1e6, idleSeconds: idle / 1e6, functions: top(fn, 15), packages: top(pkg, 10) };
}

/**
 * Every node process's profile in dir, labelled with its role (program,
 * provider, ...) through `roleOfPid`. The short-lived helper processes
 * (a `node -e` in a wrapper script) are left out: under 0.5 s of samples.
 */
function nodeProfiles(dir, roleOfPid) {
  const out = [];
  for (const f of fs.readdirSync(path.join(dir, "node")).filter((x) => x.endsWith(".cpuprofile"))) {
    const pid = Number(f.split(".")[1]);
    const s = summarizeCpuProfile(path.join(dir, "node", f));
    if (s.seconds - s.idleSeconds < 0.5) continue;
    out.push({ role: roleOfPid(pid) ?? "other", pid, ...s });
  }
  return out;
}

/**
 * With BENCH_MEM_DIR set: the node processes of a measured step record their
 * heaps (lib/mem-probe-preload.js) under <dir>/<files>/<step>; `where` is
 * undefined for a profiled step.
 */
function memProbe(where) {
  const dir = process.env.BENCH_MEM_DIR;
  if (!dir || !where) return {};
  const out = path.join(dir, where);
  fs.mkdirSync(out, { recursive: true });
  const env = { NODE_OPTIONS: `--require ${path.join(__dirname, "mem-probe-preload.js")}`, BENCH_MEM_DIR: out };
  if (process.env.BENCH_HEAP_SNAPSHOT_MIB) env.BENCH_HEAP_SNAPSHOT_MIB = process.env.BENCH_HEAP_SNAPSHOT_MIB;
  return env;
}

module.exports = { memProbe, profiling, cliProfile, nodeProfiles };
