// A throwaway Pulumi workspace for the demo and the end-to-end suite: a copy
// of an example program in a temp directory, a local file backend, a
// passphrase secrets provider, and the CLI from scripts/pulumi. Nothing here
// reaches beyond 127.0.0.1.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const REPO_ROOT = path.resolve(__dirname, "..");
const PULUMI = path.join(REPO_ROOT, "scripts", "pulumi");

/**
 * Copies `programDir` into a fresh temp directory whose node_modules points
 * at this repository's (so `pulumi-zilliz-stages` and `@pulumi/pulumi`
 * resolve exactly as in a user's project), and returns helpers to run the
 * CLI there.
 */
function createWorkspace(programDir, { stack = "dev", env = {} } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-ws-"));
  const dir = path.join(root, "program");
  fs.cpSync(programDir, dir, { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  const stateDir = path.join(root, "state");
  fs.mkdirSync(stateDir);
  const baseEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PULUMI_HOME: path.join(root, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "zilliz-stages-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    NO_COLOR: "1",
    ...env,
  };
  if (process.env.XDG_CACHE_HOME) baseEnv.XDG_CACHE_HOME = process.env.XDG_CACHE_HOME;

  /** Everything every command printed, both streams, in order: what a test greps for secrets. */
  let transcript = "";

  /**
   * Starts `pulumi <args>` (scripts/pulumi execs the CLI, so `child.pid` is
   * the CLI's) and returns the child with a promise of its exit code, signal
   * and both streams (never rejected on a non-zero exit). `onSpawn(child)`
   * sees the process as it starts, e.g. to watch its memory. `detached`: in
   * a process group of its own, as a terminal runs a command, so a test can
   * signal the group like a Ctrl-C.
   */
  function start(args, { extraEnv = {}, input, onSpawn, detached = false } = {}) {
    const child = spawn(PULUMI, args, { cwd: dir, env: { ...baseEnv, ...extraEnv }, stdio: ["pipe", "pipe", "pipe"], detached });
    const result = new Promise((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code, signal) => {
        transcript += stdout + stderr;
        resolve({ code, signal, stdout, stderr });
      });
    });
    onSpawn?.(child);
    child.stdin.end(input ?? "");
    return { child, result };
  }

  /** Runs `pulumi <args>`; resolves with the exit code and both streams (never rejects on a non-zero exit). */
  function run(args, opts) {
    return start(args, opts).result;
  }

  /** Like `run`, but throws with both streams when the command fails. */
  async function must(args, opts) {
    const r = await run(args, opts);
    if (r.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited with ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    }
    return r;
  }

  async function init() {
    await must(["stack", "init", stack, "--non-interactive"]);
  }

  /** Points the stack at an emulator: its endpoint, and its key as a secret read from stdin (never on a command line). */
  async function useEmulator(emu) {
    await must(["config", "set", "zillizcloud:endpoint", emu.url]);
    await must(["config", "set", "--secret", "zillizcloud:apiKey"], { input: emu.apiKey });
  }

  function cleanup() {
    fs.rmSync(root, { recursive: true, force: true });
  }

  return { root, dir, stateDir, env: baseEnv, start, run, must, init, useEmulator, cleanup, transcript: () => transcript };
}

/**
 * A workspace for a YAML program on the zillizcloud package: the YAML
 * language host built from its Go module (scripts/pulumi-language-yaml,
 * cached after the first build) on PATH, and the package recorded in the
 * copy's Pulumi.yaml by hand (host v1.25.0 has no Link, so `pulumi package
 * add` cannot finish there).
 */
function createYamlWorkspace(programDir, { stack = "dev", env = {} } = {}) {
  const yamlBin = execFileSync(path.join(REPO_ROOT, "scripts", "pulumi-language-yaml"), { encoding: "utf8" }).trim();
  const ws = createWorkspace(programDir, { stack, env: { ...env, PATH: `${yamlBin}:${env.PATH ?? process.env.PATH}` } });
  const project = path.join(ws.dir, "Pulumi.yaml");
  // A program that names the package itself (examples/ci-yaml: a path under
  // the project) keeps its own line.
  if (!/^packages:/m.test(fs.readFileSync(project, "utf8"))) {
    fs.appendFileSync(project, `packages:\n  zillizcloud: ${path.join(REPO_ROOT, "plugin")}\n`);
  }
  return ws;
}

module.exports = { createWorkspace, createYamlWorkspace, REPO_ROOT, PULUMI };
