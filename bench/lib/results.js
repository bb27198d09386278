// The end of a benchmark run, the same for both harnesses: the targets as
// PASS/MISS lines, the results as JSON under bench/results/ (git-ignored),
// and a warning when the machine was busy.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

/** Prints `title` and results.targets, writes bench/results/<name>, and warns if results.machine.busy. */
function finish(results, { title, name }) {
  console.log(`\n${title}`);
  for (const t of results.targets) console.log(`  ${t.pass ? "PASS" : "MISS"}  ${t.name}`);
  const out = path.join(__dirname, "..", "results", name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`\nresults: ${path.relative(process.cwd(), out)} (${results.seconds.toFixed(0)} s)`);
  if (results.machine.busy) console.log("WARNING: the machine was busy at the start (load >= 0.5); the timings are a smoke test, not a measurement.");
}

module.exports = { finish };
