// gofakes3 (github.com/johannesboyne/gofakes3): a third-party S3 server,
// built once from its Go module into the cache like the Pulumi CLI, and
// started on a free loopback port. The tests of object sources and
// `npm run bench:second-server` use it so that what they prove does not
// rest on our own emulator's reading of S3. It checks no signature.
"use strict";
const { spawn } = require("node:child_process");
const { goInstall } = require("./go-tools");

const VERSION = "v1.2.0";

/** Builds gofakes3 into the cache when it is not there (about 10 s, once); returns its path. */
function ensureGofakes3(log = () => {}) {
  return goInstall("gofakes3", "github.com/johannesboyne/gofakes3/cmd/gofakes3", VERSION, log);
}

/**
 * gofakes3 on a free loopback port, memory backend, with `bucket` created;
 * resolves once it says which port. `stop()` ends it.
 */
function startGofakes3(bucket) {
  const child = spawn(ensureGofakes3(), ["-backend", "memory", "-initialbucket", bucket, "-host", "127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d) => {
      text += d;
      const m = /using port: (\d+)/.exec(text);
      if (!m) return;
      child.stderr.off("data", onData);
      // Keep draining its log, or a full pipe would stall it.
      child.stderr.resume();
      child.off("exit", onExit);
      const port = Number(m[1]);
      resolve({
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    };
    const onExit = (code) => reject(new Error(`gofakes3 exited ${code}: ${text.slice(-500)}`));
    child.stderr.on("data", onData);
    child.on("exit", onExit);
  });
}

module.exports = { GOFAKES3_VERSION: VERSION, ensureGofakes3, startGofakes3 };
