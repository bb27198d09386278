// Child processes for the tests and the bench (plain JS, so both can use it):
// collect a child's output until it ends, or wait for a line it prints.
"use strict";

/** Resolves with the exit code, the signal and both streams once `child` closes; rejects if it cannot start. */
function collect(child) {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
function waitForLine(child, pattern) {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`exited ${code} before printing ${pattern}: ${out}`)));
  });
}

module.exports = { collect, waitForLine };
