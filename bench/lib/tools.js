// The processes the benchmark times: a runner that records wall time, the
// child's CPU time and peak RSS (through /usr/bin/time when present) and the
// CPU the emulator spent meanwhile; and the peers, configured to reach the
// emulator with the same temporary credentials as ours.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { cachedTool, goInstall } = require("../../scripts/go-tools");
const { collect } = require("../../test/helpers/child");

const AWS = "/usr/bin/aws";
const RCLONE = "/usr/bin/rclone";
const OPENSSL = "/usr/bin/openssl";
const TIME = "/usr/bin/time";
/** A current rclone beside Debian's 1.60, built from its Go module once and kept in the cache like the Pulumi CLI. */
const RCLONE_NEW_VERSION = "v1.76.0";
const RCLONE_NEW = cachedTool("rclone", RCLONE_NEW_VERSION);

/** Builds rclone v1.76.0 into the cache when it is not there (several minutes, once). */
function ensureNewRclone(log) {
  goInstall("rclone", "github.com/rclone/rclone", RCLONE_NEW_VERSION, log, "; several minutes on 2 cores");
}

/** Debian's packages for the peers, installed when missing (apt-get update once). */
function ensurePeers(log) {
  ensureNewRclone(log);
  const missing = [AWS, RCLONE, OPENSSL].filter((p) => !fs.existsSync(p));
  if (missing.length === 0) return;
  log(`installing peers from Debian (${missing.join(", ")} missing)...`);
  // The package lists may be empty in a fresh container: update them once, only then.
  const candidates = () => (execFileSync("apt-cache", ["policy", "awscli", "rclone"], { encoding: "utf8" }).match(/Candidate:\s*[0-9]/g) ?? []).length;
  if (candidates() < 2) execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  if (candidates() < 2) throw new Error("awscli or rclone is not available from the configured apt sources (apt-cache policy awscli rclone)");
  execFileSync("apt-get", ["install", "-y", "-qq", "awscli", "rclone", "openssl"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** One line per tool, for the record. */
function versions() {
  const first = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0].trim();
    } catch (err) {
      return `unavailable (${err.message.split("\n")[0]})`;
    }
  };
  return {
    node: process.version,
    awscli: first(AWS, ["--version"]),
    rclone: first(RCLONE, ["version"]),
    rcloneNew: first(RCLONE_NEW, ["version"]),
    openssl: first(OPENSSL, ["version"]),
  };
}

/**
 * A child environment without the caller's AWS/rclone settings or proxies,
 * so nothing but what we set reaches the tools. (A CA bundle meant for https
 * also makes rclone refuse a plain-http endpoint.)
 */
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|RCLONE_)/.test(k) || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", ...extra };
}

/** Runs processes, timing them. `scratch` is a directory for /usr/bin/time's output. */
class Runner {
  constructor(scratch) {
    this.timeFile = path.join(scratch, "time.out");
    this.withTime = fs.existsSync(TIME);
  }

  /**
   * Resolves { seconds, stdout, stderr, cpuSeconds?, maxRssKiB?, emulatorCpuSeconds };
   * rejects when the process fails. The emulator runs in this process, so
   * this process's CPU time during the run is the server's work.
   */
  run(cmd, args, env = cleanEnv({})) {
    const argv = this.withTime ? [TIME, "-o", this.timeFile, "-f", "%U %S %M", cmd, ...args] : [cmd, ...args];
    const cpu0 = process.cpuUsage();
    const started = process.hrtime.bigint();
    return collect(spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] })).then(({ code, stdout, stderr }) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
      const res = { seconds, stdout, stderr, emulatorCpuSeconds: (cpu.user + cpu.system) / 1e6 };
      if (this.withTime) {
        const [user, sys, rss] = fs.readFileSync(this.timeFile, "utf8").trim().split("\n").pop().split(/\s+/).map(Number);
        res.cpuSeconds = user + sys;
        res.maxRssKiB = rss;
      }
      return res;
    });
  }
}

/**
 * The peers, pointed at the emulator with the credentials of one apply
 * answer. Each function uploads `dir` to `<stagePrefix><prefix>` and returns
 * the runner's measurement. Defaults are left as the tools ship them.
 */
function peers(runner, target, scratch) {
  const c = target.credentials;
  const base = `${target.bucketName}/${target.stagePrefix}`;
  const awsConfig = path.join(scratch, "aws-config");
  // Path-style: the emulator is one host, buckets are not DNS names.
  fs.writeFileSync(awsConfig, "[default]\ns3 =\n  addressing_style = path\n");
  const awsEnv = cleanEnv({
    AWS_ACCESS_KEY_ID: c.tmpAK,
    AWS_SECRET_ACCESS_KEY: c.tmpSK,
    AWS_SESSION_TOKEN: c.sessionToken,
    AWS_DEFAULT_REGION: target.region,
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  });
  const rcloneEnv = cleanEnv({
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_STAGE_TYPE: "s3",
    RCLONE_CONFIG_STAGE_PROVIDER: "Other",
    RCLONE_CONFIG_STAGE_ACCESS_KEY_ID: c.tmpAK,
    RCLONE_CONFIG_STAGE_SECRET_ACCESS_KEY: c.tmpSK,
    RCLONE_CONFIG_STAGE_SESSION_TOKEN: c.sessionToken,
    RCLONE_CONFIG_STAGE_ENDPOINT: target.endpoint,
    RCLONE_CONFIG_STAGE_REGION: target.region,
    RCLONE_CONFIG_STAGE_FORCE_PATH_STYLE: "true",
    // The credentials cover the stage prefix only: no bucket creation or check.
    RCLONE_CONFIG_STAGE_NO_CHECK_BUCKET: "true",
  });
  const aws = (sub) => (dir, prefix) =>
    runner.run(AWS, ["s3", sub, ...(sub === "cp" ? ["--recursive"] : []), "--only-show-errors", "--no-progress", "--endpoint-url", target.endpoint, dir, `s3://${base}${prefix}`], awsEnv);
  return {
    "aws s3 cp": aws("cp"),
    "aws s3 sync": aws("sync"),
    "rclone copy": (dir, prefix) => runner.run(RCLONE, ["copy", dir, `stage:${base}${prefix}`], rcloneEnv),
    "rclone 1.76 copy": (dir, prefix) => runner.run(RCLONE_NEW, ["copy", dir, `stage:${base}${prefix}`], rcloneEnv),
  };
}

/** What each tool compares to decide a file is unchanged, and the defaults in use. */
const NOTES = {
  ours: "content: SHA-256 and size against the previous manifest (the state); a file is re-read only when its size or mtime differ from the manifest's; no request to the store. 16 requests in flight; single PUTs below 16 MiB (signature-v4 + undici), multipart above in 8 MiB parts (unsigned parts with a CRC32, through undici; start and completion through the AWS SDK).",
  "aws s3 cp": "no comparison: uploads everything. Defaults: max_concurrent_requests 10, multipart_threshold 8 MiB, multipart_chunksize 8 MiB.",
  "aws s3 sync": "size, and local mtime newer than the object's LastModified (one LIST per 1,000 keys; no content check). Same defaults as cp.",
  "rclone copy": "size and modification time (the X-Amz-Meta-Mtime it stores, read with a HEAD per object); when the times differ, the MD5 (ETag) decides between a re-upload and a metadata-only copy. Defaults: --transfers 4, --checkers 8, upload_cutoff 200 MiB, chunk_size 5 MiB, upload_concurrency 4.",
  "rclone 1.76 copy": "rclone v1.76.0 built from its Go module (bench/lib/tools.js), the same comparison and the same S3 settings from RCLONE_CONFIG_STAGE_* as Debian's 1.60; its own defaults.",
  openssl: "openssl dgst -sha256 file1 file2 ... : one process, one core, files in turn.",
  cat: "cat file1 file2 ... > /dev/null: a plain read (from the page cache once warm).",
};

module.exports = { ensurePeers, versions, RCLONE_NEW, RCLONE, cleanEnv, Runner, peers, NOTES, OPENSSL };
