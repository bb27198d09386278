// Tools built from Go modules for the tests and benchmarks (gofakes3,
// rclone), each once into ~/.cache/pulumi-zilliz-stages/<name>-<version>/,
// like the Pulumi CLI (scripts/pulumi).
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/** Where built tools are kept. */
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-zilliz-stages");

/** The `go` command on PATH or in /usr/local/go/bin, or undefined. */
function findGo() {
  for (const dir of [...(process.env.PATH ?? "").split(path.delimiter), "/usr/local/go/bin"]) {
    const go = path.join(dir, "go");
    if (fs.existsSync(go)) return go;
  }
  return undefined;
}

/** The path `name` at `version` is kept at: <cache>/<name>-<version>/<name>. */
function cachedTool(name, version) {
  return path.join(CACHE, `${name}-${version}`, name);
}

/**
 * Builds `module@version` (a command whose binary is `name`) into the cache
 * unless it is there; returns its path. Built in a temporary directory and
 * moved in, so two builds at once never leave half a binary in place.
 */
function goInstall(name, module, version, log = () => {}, note = "") {
  const binary = cachedTool(name, version);
  if (fs.existsSync(binary)) return binary;
  const go = findGo();
  if (!go) throw new Error(`building ${name} needs Go (on PATH or in /usr/local/go/bin)`);
  log(`building ${name} ${version} from its Go module into ${path.dirname(binary)} (once${note})...`);
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE, `${name}-build-`));
  try {
    execFileSync(go, ["install", `${module}@${version}`], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, GOBIN: tmp, CGO_ENABLED: "0" } });
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    fs.renameSync(path.join(tmp, name), binary);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return binary;
}

module.exports = { findGo, cachedTool, goInstall };
