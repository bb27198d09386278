// The machine a run measured: cores, memory, load and free space. A busy
// machine makes timings meaningless and a full disk the run, so both are
// checked before anything starts and recorded with the results.
"use strict";
const fs = require("node:fs");
const os = require("node:os");

const MiB = 1024 * 1024;

/** Records the machine; warns when the 1-minute load is 0.5 or more; throws when os.tmpdir() has less than needGiB free. */
function preflight({ needGiB, log }) {
  const load = os.loadavg();
  const cores = os.availableParallelism();
  const machine = { cpus: cores, cpuModel: os.cpus()[0]?.model, memMiB: Math.round(os.totalmem() / MiB), load, busy: load[0] >= 0.5 };
  if (machine.busy) log(`WARNING: load average ${load[0].toFixed(2)} (≥ 0.5): other work is running; treat the figures as a smoke test`);
  const st = fs.statfsSync(os.tmpdir());
  machine.tmpFreeGiB = (st.bavail * st.bsize) / 1024 ** 3;
  if (machine.tmpFreeGiB < needGiB) throw new Error(`${os.tmpdir()} has ${machine.tmpFreeGiB.toFixed(1)} GiB free; the run needs about ${needGiB} GiB`);
  log(`load ${load.map((x) => x.toFixed(2)).join(" ")}; ${machine.tmpFreeGiB.toFixed(0)} GiB free in ${os.tmpdir()}; ${cores} cores`);
  return machine;
}

module.exports = { preflight };
