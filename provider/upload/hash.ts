/**
 * SHA-256 of many files on every core. Each worker reads with a 1 MiB buffer
 * and hashes as it goes, so memory stays flat whatever the file sizes.
 *
 * The worker is created from source text rather than a file path: this code
 * runs as TypeScript under jest and as compiled JavaScript inside a
 * serialized Pulumi provider, and a path would be right for only one of them.
 */
import { createHash } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { ZillizHashError } from "../errors";
import { type ContentStamp, FileIdentity, identityProblem, OPEN_FLAGS, openFlagsFor, stampOf } from "./local-file";

export interface HashJob {
  path: string;
  size: number;
  /** The file the listing saw: a different one found at open is refused (errno ECHANGED, or ELOOP for a symlink). */
  identity?: FileIdentity;
}

export interface HashResult {
  sha256: string;
  /** Bytes actually read: differs from the job's size when the file changed meanwhile. */
  size: number;
  /** Set when the content read can be vouched for by its stamp (see STAMP_MIN_BYTES). */
  stamp?: ContentStamp;
}

/**
 * Files this big (S3's smallest part: every multipart upload) get a
 * content stamp: the upload of a file whose stamp still holds sends the
 * bytes hashed here without hashing them again. Only for files whose
 * stamp did not move while they were read, and whose ctime was already
 * SETTLE_NS old when the read began: file times tick at the clock's
 * granularity (jiffies locally, a second or two on some filesystems), and
 * a write within the same tick as the last would leave the stamp as it was.
 * Smaller files keep no stamp: they are hashed again when sent, which costs
 * little, and 100,000 stamps would cost memory.
 */
const STAMP_MIN_BYTES = 5 * 1024 * 1024;
const SETTLE_NS = 2_000_000_000n;

/** The stamp of a file read from `before` to `after`, if it can vouch for what was read. */
function vouchedStamp(before: { ctimeNs: bigint; mtimeNs: bigint }, after: { ctimeNs: bigint; mtimeNs: bigint; size: bigint }, read: number, startedNs: bigint): ContentStamp | undefined {
  const held = after.ctimeNs === before.ctimeNs && after.mtimeNs === before.mtimeNs && after.size === BigInt(read);
  return held && before.ctimeNs < startedNs - SETTLE_NS ? stampOf(after) : undefined;
}

/** Read size for hashing: big enough that syscalls do not dominate. */
const CHUNK = 1 << 20;

const WORKER_SOURCE = `
"use strict";
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const nodePath = require("node:path");
const buf = Buffer.allocUnsafe(${CHUNK});
const flags = ${OPEN_FLAGS};
const STAMP_MIN = ${STAMP_MIN_BYTES};
const SETTLE_NS = ${SETTLE_NS}n;
// The rule of vouchedStamp in hash.ts, for a thread that cannot import it.
function vouched(before, after, read, startedNs) {
  const held = after.ctimeNs === before.ctimeNs && after.mtimeNs === before.mtimeNs && after.size === BigInt(read);
  return held && before.ctimeNs < startedNs - SETTLE_NS ? { ctimeNs: after.ctimeNs, mtimeNs: after.mtimeNs } : undefined;
}
const nofollow = ${fsConstants.O_NOFOLLOW ?? 0};
// The rule of identityProblem in local-file.ts, for a thread that cannot import it.
function changed(fd, path, st, identity) {
  if (!identity) return undefined;
  if (st.dev !== identity.dev || st.ino !== identity.ino) return "another file than the one listed (it was replaced)";
  const within = identity.link && identity.link.within;
  if (within === undefined) return undefined;
  let real;
  try {
    real = fs.readlinkSync("/proc/self/fd/" + fd);
  } catch {
    real = fs.realpathSync(path);
  }
  const rel = nodePath.relative(within, real);
  const inside = rel === "" || (rel !== ".." && !rel.startsWith(".." + nodePath.sep) && !nodePath.isAbsolute(rel));
  return inside ? undefined : "a symlink to " + real + ", outside the source";
}
function hashOne(path, identity) {
  let fd;
  try {
    fd = fs.openSync(path, identity && !identity.link ? flags | nofollow : flags);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { error: "ENOTREG", message: "not a regular file" };
    const problem = changed(fd, path, st, identity);
    if (problem) return { error: "ECHANGED", message: problem };
    const startedNs = BigInt(Date.now()) * 1000000n;
    const before = st.size >= STAMP_MIN ? fs.fstatSync(fd, { bigint: true }) : undefined;
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      size += n;
    }
    const stamp = before && vouched(before, fs.fstatSync(fd, { bigint: true }), size, startedNs);
    return { sha256: hash.digest("hex"), size, stamp };
  } catch (err) {
    return { error: (err && err.code) || "EIO", message: String((err && err.message) || err) };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
parentPort.on("message", (batch) => {
  const results = [];
  for (let i = 0; i < batch.paths.length; i++) {
    const r = hashOne(batch.paths[i], batch.identities[i]);
    results.push(r);
    if (r.error) break;
  }
  parentPort.postMessage({ id: batch.id, results });
});
`;

/** Up to this many files and bytes, starting workers costs more than it saves. */
const INLINE_FILES = 32;
const INLINE_BYTES = 8 * 1024 * 1024;
/**
 * A batch closes at this many bytes or files, whichever comes first: many
 * small files per message keep the messaging overhead low, and the byte
 * bound keeps one batch of large files from leaving other cores idle.
 */
const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_FILES = 512;

async function hashInline(path: string, identity: FileIdentity | undefined, buf: Buffer): Promise<HashResult> {
  const handle = await fs.open(path, openFlagsFor(identity));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ZillizHashError(path, "ENOTREG", "not a regular file");
    const problem = identityProblem(handle.fd, path, st, identity);
    if (problem) throw new ZillizHashError(path, "ECHANGED", problem);
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const before = st.size >= STAMP_MIN_BYTES ? await handle.stat({ bigint: true }) : undefined;
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    const stamp = before && vouchedStamp(before, await handle.stat({ bigint: true }), size, startedNs);
    return { sha256: hash.digest("hex"), size, ...(stamp && { stamp }) };
  } finally {
    await handle.close();
  }
}

/**
 * Hashes every job, on up to `concurrency` worker threads (default: every
 * core); results come back in the jobs' order. The first unreadable file
 * rejects with a ZillizHashError naming it.
 */
export async function hashFiles(jobs: readonly HashJob[], concurrency = os.availableParallelism()): Promise<HashResult[]> {
  const total = jobs.reduce((s, j) => s + j.size, 0);
  if (jobs.length <= INLINE_FILES && total <= INLINE_BYTES) {
    const buf = Buffer.allocUnsafe(CHUNK);
    const out: HashResult[] = [];
    for (const job of jobs) {
      try {
        out.push(await hashInline(job.path, job.identity, buf));
      } catch (err) {
        if (err instanceof ZillizHashError) throw err;
        const e = err as NodeJS.ErrnoException;
        throw new ZillizHashError(job.path, e.code ?? "EIO", e.message, { cause: err });
      }
    }
    return out;
  }

  const batches: { start: number; paths: string[]; identities: (FileIdentity | undefined)[] }[] = [];
  let bytes = 0;
  jobs.forEach((job, i) => {
    const last = batches[batches.length - 1];
    if (!last || bytes + job.size > BATCH_BYTES || last.paths.length >= BATCH_FILES) {
      batches.push({ start: i, paths: [job.path], identities: [job.identity] });
      bytes = job.size;
    } else {
      last.paths.push(job.path);
      last.identities.push(job.identity);
      bytes += job.size;
    }
  });

  const results: HashResult[] = new Array(jobs.length);
  const count = Math.max(1, Math.min(concurrency || 1, batches.length));
  const workers = Array.from({ length: count }, () => new Worker(WORKER_SOURCE, { eval: true }));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let busy: number | undefined;
            const feed = () => {
              if (next >= batches.length) {
                busy = undefined;
                return resolve();
              }
              const id = next++;
              busy = id;
              worker.postMessage({ id, paths: batches[id].paths, identities: batches[id].identities });
            };
            worker.on("message", (msg: { id: number; results: Array<HashResult & { error?: string; message?: string }> }) => {
              const batch = batches[msg.id];
              for (let k = 0; k < msg.results.length; k++) {
                const r = msg.results[k];
                if (r.error) return reject(new ZillizHashError(batch.paths[k], r.error, r.message ?? r.error));
                results[batch.start + k] = { sha256: r.sha256, size: r.size, ...(r.stamp && { stamp: r.stamp }) };
              }
              feed();
            });
            worker.on("error", reject);
            // A worker that dies without an error event (out of memory, killed) must not hang the scan.
            worker.on("exit", (code) => {
              if (busy !== undefined) {
                reject(new ZillizHashError(batches[busy].paths[0], "EWORKER", `a hashing worker stopped unexpectedly (exit code ${code})`));
              }
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
