#!/usr/bin/env node
// Mutation testing of the modules that carry the guarantees (StrykerJS with
// its jest runner): each module is mutated on its own, against only the test
// files that guard it, so a run fits on a small shared machine and each score
// says how well those tests guard that module.
//
//   scripts/dev npm run mutate                      every module below
//   scripts/dev npm run mutate -- upload/plan       some of them
//   MUTATE_CONCURRENCY=1 scripts/dev npm run mutate   fewer processes (default 2)
//   MUTATE_FORCE=1 scripts/dev npm run mutate        ignore the last run's results (see incremental below)
//
// Reports: reports/mutation/<module>.html and .json, and summary.json (score,
// killed, survived, time per module). Not run in CI: it takes tens of minutes.
//
// To guard another module, add an entry to MODULES: `mutate` names files (or
// lines of them, as Stryker's "file:from-to"), `tests` the test files that
// must kill its mutants.
"use strict";
const { promises: fs, readFileSync } = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const REPORTS = path.join(ROOT, "reports", "mutation");

/**
 * Lines of `file` that match one of `patterns`, as Stryker ranges. Used where
 * only part of a module carries the guarantee; found by content, not by line
 * number, so edits elsewhere in the file do not move the range.
 */
function linesOf(file, patterns) {
  const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const ranges = [];
  lines.forEach((line, i) => {
    if (patterns.some((p) => p.test(line))) ranges.push(`${file}:${i + 1}-${i + 1}`);
  });
  if (ranges.length === 0) throw new Error(`mutate: no line of ${file} matches ${patterns.join(", ")}; update MODULES in scripts/mutate.js`);
  return ranges;
}

/** The emulator's object-endpoint authorization inside s3.ts: the prefix checks and the bucket check. */
const S3_AUTHORIZATION = [/requirePrefix\(/, /startsWith\(cred\.prefix\)/, /target\.bucket !== ctx\.bucketName/];

const MODULES = [
  { name: "upload/plan", mutate: ["provider/upload/plan.ts"], tests: ["test/upload/keys-plan.test.ts"] },
  {
    // The SDK's string codec: the same bytes and strings as google-protobuf's own, wherever the package loads.
    name: "protobuf-strings",
    mutate: ["provider/protobuf-strings.ts"],
    tests: ["test/protobuf-strings.test.ts"],
  },
  {
    // A large file's parts, and what proves their bytes before the upload completes.
    name: "upload/multipart",
    mutate: ["provider/upload/multipart.ts"],
    tests: ["test/upload/execute.test.ts", "test/upload/recover-multipart.test.ts"],
  },
  {
    // The store's side of that proof: the checksums the emulator checks, as S3 does.
    name: "emulator/s3-checksums",
    mutate: ["provider/emulator/s3-checksums.ts"],
    tests: ["test/emulator/strict-s3.test.ts", "test/upload/execute.test.ts"],
  },
  { name: "emulator/sigv4", mutate: ["provider/emulator/sigv4.ts"], tests: ["test/emulator/object-authorization.test.ts"] },
  {
    name: "emulator/object-auth",
    mutate: ["provider/emulator/object-auth.ts"],
    tests: ["test/emulator/object-authorization.test.ts", "test/emulator/object-endpoint.test.ts"],
  },
  {
    name: "emulator/s3-authorization",
    mutate: () => linesOf("provider/emulator/s3.ts", S3_AUTHORIZATION),
    tests: ["test/emulator/object-authorization.test.ts", "test/emulator/object-endpoint.test.ts"],
  },
  {
    // How a TypeScript program hands an ImportJob its paths: what it imports, and what tells a new job from the same one.
    name: "resources/packed-data-paths",
    mutate: ["provider/resources/packed-data-paths.ts", ...linesOf("provider/resources/import-job-inputs.ts", [/dataPathsPacked|unpackDataPaths|isUnknown\(packed\)/])],
    tests: ["test/resources/import-job.packed.test.ts", "test/resources/examples.mocks.test.ts"],
  },
  {
    // A files resource's dataPaths as a list, made only when something reads it (an ImportJob takes the packed form).
    name: "resources/lazy-output",
    mutate: ["provider/resources/lazy-output.ts", ...linesOf("provider/resources/staged-files.ts", [/lazyOutput|known\(\)/])],
    tests: ["test/resources/lazy-output.test.ts", "test/resources/examples.mocks.test.ts"],
  },
  {
    // A source in another object store: parsed, listed, hashed and streamed pinned to the listed ETag, and the
    // scan's choice of which objects are hashed as they are sent (the pending digest).
    name: "upload/object-source",
    mutate: [
      "provider/upload/object-location.ts",
      "provider/upload/object-source.ts",
      "provider/upload/object-reads.ts",
      ...linesOf("provider/upload/scan.ts", [/freeKeys|PENDING_SHA256|MAX_PENDING_BYTES|deferred|etag/]),
      ...linesOf("provider/upload/multipart.ts", [/pending|PENDING_SHA256|markOwned|SHA256_METADATA/]),
    ],
    tests: ["test/upload/object-source.test.ts", "test/resources/object-source.test.ts", "test/upload/recover-owners.test.ts", "test/upload/manifest-codec.test.ts"],
  },
  {
    // The GET client an object source's bytes come through: a parse that changed a body would be hashed as it is
    // sent and recorded as right, so its framing and its refusals are guarantee code.
    name: "upload/http-get",
    mutate: ["provider/upload/http-get.ts", "provider/upload/http-connection.ts", "provider/upload/http-answer.ts", "provider/upload/object-get.ts"],
    // http-get-tls.test.ts runs the compiled client in a child process (to trust its test CA), which a mutant never reaches.
    tests: ["test/upload/http-get.test.ts", "test/upload/object-source.test.ts"],
  },
  {
    // The scan's one pass: each file's SHA-256 and the CRC32s of the parts an upload cuts, which prove the
    // sent bytes are the hashed ones; and the hashing threads' sharing of the work.
    name: "upload/hash",
    mutate: ["provider/upload/hash.ts", "provider/upload/part-size.ts"],
    tests: ["test/upload/part-size.test.ts", "test/upload/scan.test.ts", "test/upload/execute.test.ts"],
  },
  { name: "upload/delete", mutate: ["provider/upload/delete.ts"], tests: ["test/upload/delete.test.ts", "test/upload/execute-removals.test.ts"] },
  {
    name: "upload/recover",
    // adoption.ts is recovery's look (what is there, whose), split out of recover.ts.
    mutate: ["provider/upload/recover.ts", "provider/upload/adoption.ts"],
    // staged-files.ownership.test.ts reaches the same ownership cases through the
    // files provider, but makes the run three times as long; recover-owners.test.ts
    // drives them through executeUpload directly.
    tests: [
      "test/upload/recover.test.ts",
      "test/upload/recover-refusals.test.ts",
      "test/upload/recover-multipart.test.ts",
      "test/upload/recover-owners.test.ts",
    ],
  },
  {
    name: "upload/execute",
    mutate: ["provider/upload/execute.ts"],
    // recover.test.ts also passes through execute.ts, but doubles the run; recovery has its own entry.
    // recover-refusals.test.ts is small and guards how a failed look fails the run.
    tests: [
      "test/upload/execute.test.ts",
      "test/upload/execute-removals.test.ts",
      "test/upload/execute-guards.test.ts",
      // What a run reports: progress, the outcome's fields, the error's counts, out-of-range options.
      "test/upload/execute-outcome.test.ts",
      "test/upload/recover-refusals.test.ts",
      "test/upload/volume-upload.test.ts",
    ],
  },
  {
    // Who owns an object: what a removal or a destroy may delete, and the owner marks recovery writes.
    name: "upload/ownership",
    mutate: ["provider/upload/ownership.ts"],
    tests: [
      "test/upload/delete.test.ts",
      "test/upload/execute-removals.test.ts",
      // splitOwned asked directly: every list's order, the listing's shortcut, the notices' words.
      "test/upload/ownership-split.test.ts",
      "test/upload/ownership-removals.test.ts",
      "test/upload/recover-owners.test.ts",
      "test/resources/staged-files.ownership.test.ts",
    ],
  },
  {
    // HEAD or list, and what each tells: recovery's and removals' view of the store.
    name: "upload/probe",
    mutate: ["provider/upload/probe.ts"],
    // recover-owners.test.ts writes as an owner, so executeUpload reads the stamps back (observeStamps);
    // probe.test.ts asks each function directly: which way the rule picks, the counters, refusals.
    tests: [
      "test/upload/probe.test.ts",
      "test/upload/recover.test.ts",
      "test/upload/recover-refusals.test.ts",
      "test/upload/recover-owners.test.ts",
      "test/upload/delete.test.ts",
      "test/upload/execute-removals.test.ts",
      // A destroy over several listing pages, with a key the listing gives URL-encoded.
      "test/resources/staged-files.ownership.test.ts",
    ],
  },
];

function strykerOptions(mod, concurrency) {
  return {
    testRunner: "jest",
    plugins: ["@stryker-mutator/jest-runner"],
    // Each mutant runs only the tests that reached its code in the first run.
    coverageAnalysis: "perTest",
    mutate: typeof mod.mutate === "function" ? mod.mutate() : mod.mutate,
    jest: {
      projectType: "custom",
      configFile: "jest.config.js",
      config: { testMatch: mod.tests.map((t) => `<rootDir>/${t}`) },
      // perTest coverage already picks the tests; the list above bounds the first run.
      enableFindRelatedTests: false,
    },
    concurrency,
    // The emulator tests run real servers and sockets: leave them room on a busy machine.
    timeoutMS: 15000,
    timeoutFactor: 2,
    reporters: ["clear-text", "progress", "json", "html"],
    clearTextReporter: { logTests: false },
    jsonReporter: { fileName: path.join(REPORTS, `${mod.name.replace(/\//g, "-")}.json`) },
    htmlReporter: { fileName: path.join(REPORTS, `${mod.name.replace(/\//g, "-")}.html`) },
    // A rerun tests again only the mutants whose code or covering tests changed (MUTATE_FORCE=1: all).
    incremental: true,
    incrementalFile: path.join(REPORTS, `${mod.name.replace(/\//g, "-")}.incremental.json`),
    force: process.env.MUTATE_FORCE === "1",
    tempDirName: ".stryker-tmp",
    ignorePatterns: ["dist", "reports", "bench/results", ".pulumi-state", "coverage"],
    thresholds: { high: 90, low: 85, break: null },
    cleanTempDir: true,
  };
}

/** Counts by status over the mutants of one run. */
function tally(results) {
  const count = (...statuses) => results.filter((r) => statuses.includes(r.status)).length;
  const killed = count("Killed", "Timeout");
  const survived = count("Survived", "NoCoverage");
  const invalid = count("CompileError", "RuntimeError", "Ignored");
  const score = killed + survived === 0 ? 100 : (100 * killed) / (killed + survived);
  return { mutants: results.length, killed, survived, invalid, score: Math.round(score * 10) / 10 };
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !MODULES.some((m) => m.name === w));
  if (unknown.length) throw new Error(`mutate: unknown module ${unknown.join(", ")}; known: ${MODULES.map((m) => m.name).join(", ")}`);
  const chosen = wanted.length ? MODULES.filter((m) => wanted.includes(m.name)) : MODULES;
  const concurrency = Number(process.env.MUTATE_CONCURRENCY ?? 2);
  const { Stryker } = await import("@stryker-mutator/core");
  await fs.mkdir(REPORTS, { recursive: true });

  const summaryFile = path.join(REPORTS, "summary.json");
  const readSummary = async () => JSON.parse(await fs.readFile(summaryFile, "utf8").catch(() => "{}"));
  let summary = await readSummary();
  for (const mod of chosen) {
    const started = Date.now();
    const results = await new Stryker(strykerOptions(mod, concurrency)).runMutationTest();
    const seconds = Math.round((Date.now() - started) / 1000);
    const survivors = results
      .filter((r) => r.status === "Survived" || r.status === "NoCoverage")
      .map((r) => `${path.relative(ROOT, r.fileName)}:${r.location.start.line} ${r.mutatorName}: ${r.replacement ?? ""}`.trim());
    // Read again: another run may have recorded other modules meanwhile.
    summary = { ...(await readSummary()), [mod.name]: { ...tally(results), seconds, date: new Date().toISOString().slice(0, 10), survivors } };
    await fs.writeFile(summaryFile, JSON.stringify(summary, null, 2) + "\n");
  }

  console.log("\nmodule                      score  killed  survived  seconds");
  for (const mod of chosen) {
    const s = summary[mod.name];
    console.log(`${mod.name.padEnd(26)} ${`${s.score}%`.padStart(6)} ${String(s.killed).padStart(7)} ${String(s.survived).padStart(9)} ${String(s.seconds).padStart(8)}`);
  }
  console.log(`\nsurvivors and reports: ${path.relative(ROOT, REPORTS)}/`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
