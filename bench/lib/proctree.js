// Memory and CPU of a whole process tree, sampled from /proc: the Pulumi CLI,
// its language host, the program and the dynamic provider are separate
// processes, and a user's machine has to hold all of them at once. The
// runner's /usr/bin/time sees only the largest single process.
"use strict";
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");

const PAGE = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;
const TICK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const MiB = 1024 * 1024;

/** pid, ppid, comm, CPU seconds and RSS bytes of one process, or undefined once it is gone. */
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm is in parentheses and may hold spaces or parentheses itself.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state) of proc(5): ppid 4, utime 14, stime 15, starttime 22, rss 24.
  return { pid, ppid: Number(f[1]), comm, cpuSeconds: (Number(f[11]) + Number(f[12])) / TICK, start: f[19], rss: Number(f[21]) * PAGE };
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/** Which part of a `pulumi` run a process is: the names the report uses. */
function roleOf(proc, rootPid, cmd) {
  if (proc.pid === rootPid) return "cli";
  if (proc.comm.startsWith("pulumi-language")) return "language host";
  if (/cmd[/\\]dynamic-provider/.test(cmd)) return "provider";
  if (/@pulumi[/\\]pulumi[/\\]cmd[/\\]run/.test(cmd)) return "program";
  return "other";
}

/**
 * Samples the tree under `rootPid` every `intervalMs` until stop() is called;
 * stop() returns the peak of the summed RSS, the largest single process, and
 * per role (cli, language host, program, provider) its peak RSS and the CPU
 * time it had used when last seen (a process that exits between two samples
 * loses at most one interval of CPU).
 */
function sampleTree(rootPid, { intervalMs = 150 } = {}) {
  const seen = new Map(); // `${pid}/${start}` -> { role, cmd, peakRss, cpuSeconds }
  const started = Date.now();
  const timeline = [];
  let peakTotal = 0;
  let peakAt = 0;
  let samples = 0;

  function sample() {
    const all = new Map();
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const st = readStat(Number(name));
      if (st) all.set(st.pid, st);
    }
    const children = new Map();
    for (const p of all.values()) {
      if (!children.has(p.ppid)) children.set(p.ppid, []);
      children.get(p.ppid).push(p);
    }
    const root = all.get(rootPid);
    if (!root) return;
    let total = 0;
    const byRole = {};
    for (const queue = [root]; queue.length; ) {
      const p = queue.pop();
      const key = `${p.pid}/${p.start}`;
      let rec = seen.get(key);
      if (!rec) {
        const cmd = cmdline(p.pid);
        rec = { pid: p.pid, comm: p.comm, role: roleOf(p, rootPid, cmd), cmd: cmd.slice(0, 200), peakRss: 0, cpuSeconds: 0 };
        seen.set(key, rec);
      } else if (rec.role === "other") {
        // A process first seen between its fork and its exec still shows its
        // parent's command line (the provider once counted as "other" so): look again.
        const cmd = cmdline(p.pid);
        rec.role = roleOf(p, rootPid, cmd);
        rec.comm = p.comm;
        rec.cmd = cmd.slice(0, 200);
      }
      rec.peakRss = Math.max(rec.peakRss, p.rss);
      rec.cpuSeconds = p.cpuSeconds;
      total += p.rss;
      byRole[rec.role] = (byRole[rec.role] ?? 0) + p.rss;
      queue.push(...(children.get(p.pid) ?? []));
    }
    samples++;
    const t = (Date.now() - started) / 1000;
    if (total > peakTotal) {
      peakTotal = total;
      peakAt = t;
    }
    timeline.push([Number(t.toFixed(2)), Object.fromEntries(Object.entries(byRole).map(([r, b]) => [r, Math.round(b / MiB)]))]);
  }

  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const procs = [...seen.values()];
      const largest = procs.reduce((a, b) => (b.peakRss > (a?.peakRss ?? -1) ? b : a), undefined);
      const roles = {};
      for (const p of procs) {
        const r = (roles[p.role] ??= { processes: 0, peakRssMiB: 0, cpuSeconds: 0 });
        r.processes++;
        r.peakRssMiB = Math.max(r.peakRssMiB, p.peakRss / MiB);
        r.cpuSeconds += p.cpuSeconds;
      }
      return {
        samples,
        intervalMs,
        peakTotalMiB: peakTotal / MiB,
        peakAtSeconds: peakAt,
        largest: largest ? { role: largest.role, comm: largest.comm, peakRssMiB: largest.peakRss / MiB } : undefined,
        roles,
        processes: procs.map((p) => ({ pid: p.pid, role: p.role, comm: p.comm, peakRssMiB: p.peakRss / MiB, cpuSeconds: p.cpuSeconds })),
        // Summed RSS per role in MiB over time, thinned to about 100 points.
        timeline: timeline.filter((_, i) => i % Math.max(1, Math.ceil(timeline.length / 100)) === 0),
      };
    },
  };
}

module.exports = { sampleTree };
