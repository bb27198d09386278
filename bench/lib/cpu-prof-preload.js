// Loaded with `node --require` (NODE_OPTIONS) into every node process of a
// profiled CLI command: node 20 refuses --cpu-prof in NODE_OPTIONS, so the
// V8 profiler is started through the inspector and its profile written to
// $BENCH_CPU_PROF_DIR/CPU.<pid>.cpuprofile when the process ends, including
// when the engine stops a plugin with SIGINT or SIGTERM.
"use strict";
const fs = require("node:fs");
const inspector = require("node:inspector");
const path = require("node:path");

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  // An in-thread session answers synchronously: the profile is written before the process goes.
  session.post("Profiler.enable");
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post("Profiler.stop", (err, res) => {
      if (!err) fs.writeFileSync(path.join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.on("exit", write);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.once(sig, () => {
      write();
      process.kill(process.pid, sig);
    });
  }
}
