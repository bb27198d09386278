/**
 * SHA-256 of many files on every core: this thread, and a worker thread for
 * each other core. Each reads with a 1 MiB buffer and hashes as it goes, so
 * memory stays flat whatever the file sizes.
 *
 * The worker is created from source text rather than a file path: this code
 * runs as TypeScript under jest and as compiled JavaScript inside a
 * serialized Pulumi provider, and a path would be right for only one of them.
 */
import { createHash } from "node:crypto";
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from "node:fs";
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { ZillizHashError } from "../errors";
import { FileIdentity, identityProblem, OPEN_FLAGS, openFlagsFor } from "./local-file";
import { DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART, PartCrcs, partSizeFor, PARTS_MIN_BYTES } from "./part-size";

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
  /** For a file of PARTS_MIN_BYTES or more: the CRC32 of each part of what was read (part-size.ts). */
  parts?: { partSize: number; crc32: number[] };
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
const { crc32 } = require("node:zlib");
const PARTS_MIN = ${PARTS_MIN_BYTES};
// partSizeFor and PartCrcs of part-size.ts and hash.ts, for a thread that cannot import them.
function partSizeFor(size) {
  return Math.max(${DEFAULT_PART_SIZE}, ${MIN_PART}, Math.ceil(size / ${MAX_PARTS}));
}
function partCrcs(partSize) {
  const out = { partSize, crc32: [] };
  let crc = 0;
  let filled = 0;
  return {
    out,
    update(chunk) {
      for (let off = 0; off < chunk.length; ) {
        const take = Math.min(chunk.length - off, partSize - filled);
        crc = crc32(chunk.subarray(off, off + take), crc);
        filled += take;
        off += take;
        if (filled === partSize) this.close();
      }
    },
    close() {
      if (filled > 0) out.crc32.push(crc);
      crc = 0;
      filled = 0;
    },
  };
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
    const parts = st.size >= PARTS_MIN ? partCrcs(partSizeFor(st.size)) : undefined;
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = n === buf.length ? buf : buf.subarray(0, n);
      hash.update(chunk);
      if (parts) parts.update(chunk);
      size += n;
    }
    if (parts) parts.close();
    return { sha256: hash.digest("hex"), size, parts: parts && parts.out };
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
  parentPort.postMessage({ results });
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

/**
 * How long this thread hashes between two turns of its event loop. A worker
 * that has finished its batch waits for the next one until this thread
 * turns, and so do the engine's calls and a stop: with a turn only every
 * 8 MiB, and never within a run of small files, the workers sat idle and
 * this thread did most of the work (issue 20).
 */
const TURN_MS = 1;

/** Turns of this thread's event loop, taken when TURN_MS have passed since the last. */
class Turns {
  private last = performance.now();
  /** `stopped`: true once the hashing failed elsewhere (a worker): this thread then drops its file at the next turn. */
  constructor(readonly stopped: () => boolean) {}
  /** A promise to await when a turn is due; otherwise undefined, so that no await (and no microtask) is spent on a chunk. */
  due(): Promise<void> | undefined {
    if (performance.now() - this.last < TURN_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.last = performance.now();
        resolve();
      }),
    );
  }
}

/**
 * One file on this thread, as a worker hashes it: synchronous reads (a
 * thread-pool round trip per chunk made it a tenth slower than openssl),
 * with a turn of the event loop whenever one is due. Undefined when the
 * hashing stopped at a turn: the rest of a large file is not read for
 * nothing, with the scan already failed.
 */
async function hashInline(path: string, identity: FileIdentity | undefined, buf: Buffer, turns: Turns): Promise<HashResult | undefined> {
  const fd = openSync(path, openFlagsFor(identity));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ZillizHashError(path, "ENOTREG", "not a regular file");
    const problem = identityProblem(fd, path, st, identity);
    if (problem) throw new ZillizHashError(path, "ECHANGED", problem);
    const parts = st.size >= PARTS_MIN_BYTES ? new PartCrcs(partSizeFor(st.size)) : undefined;
    const hash = createHash("sha256");
    let size = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      const chunk = n === buf.length ? buf : buf.subarray(0, n);
      hash.update(chunk);
      parts?.update(chunk);
      size += n;
      const turn = turns.due();
      if (turn) {
        await turn;
        if (turns.stopped()) return undefined;
      }
    }
    parts?.close();
    const sha256 = hash.digest("hex");
    return parts ? { sha256, size, parts: { partSize: parts.partSize, crc32: parts.crc32 } } : { sha256, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Jobs by index, each built when its batch is sent: a listing of 100,000
 * files is not copied into 100,000 jobs and their paths up front (issue 20:
 * those copies, and the garbage they left, were most of a scan's memory).
 */
export interface HashSource {
  count: number;
  sizeAt(i: number): number;
  jobAt(i: number): HashJob;
}

/**
 * Hashes every job, on up to `concurrency` worker threads (default: every
 * core); results come back in the jobs' order. The first unreadable file
 * rejects with a ZillizHashError naming it.
 */
export async function hashFiles(jobs: readonly HashJob[], concurrency?: number): Promise<HashResult[]> {
  const results: HashResult[] = new Array(jobs.length);
  await hashEach({ count: jobs.length, sizeAt: (i) => jobs[i].size, jobAt: (i) => jobs[i] }, (i, r) => (results[i] = r), concurrency);
  return results;
}

/** One message's worth of jobs. */
interface Batch {
  start: number;
  paths: string[];
  identities: (FileIdentity | undefined)[];
}

/**
 * Hashes every job of `source`, handing each result to `onResult` with the
 * job's index as it arrives (in no particular order); the first unreadable
 * file rejects with a ZillizHashError naming it, and no result follows.
 */
export async function hashEach(source: HashSource, onResult: (i: number, r: HashResult) => void, concurrency = os.availableParallelism()): Promise<void> {
  let total = 0;
  for (let i = 0; i < source.count && total <= INLINE_BYTES; i++) total += source.sizeAt(i);
  // A few small files: starting a worker would cost more than it saves.
  const few = source.count <= INLINE_FILES && total <= INLINE_BYTES;
  // This thread hashes too, so `concurrency` threads take one worker fewer:
  // each is an isolate of its own, about 15 MiB on Node 24 (issue 20).
  const workerCount = few ? 0 : Math.max(0, Math.min((concurrency || 1) - 1, source.count - 1));

  let cursor = 0;
  const nextBatch = (): Batch | undefined => {
    if (cursor >= source.count) return undefined;
    const batch: Batch = { start: cursor, paths: [], identities: [] };
    for (let bytes = 0; cursor < source.count && batch.paths.length < BATCH_FILES; cursor++) {
      const size = source.sizeAt(cursor);
      if (batch.paths.length > 0 && bytes + size > BATCH_BYTES) break;
      const job = source.jobAt(cursor);
      batch.paths.push(job.path);
      batch.identities.push(job.identity);
      bytes += size;
    }
    return batch;
  };
  let failed = false;

  const here = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(CHUNK);
    const turns = new Turns(() => failed);
    for (let batch = nextBatch(); batch && !failed; batch = failed ? undefined : nextBatch()) {
      for (let k = 0; k < batch.paths.length; k++) {
        let r: HashResult | undefined;
        try {
          const turn = turns.due();
          if (turn) await turn;
          if (failed) return;
          r = await hashInline(batch.paths[k], batch.identities[k], buf, turns);
        } catch (err) {
          failed = true;
          if (err instanceof ZillizHashError) throw err;
          const e = err as NodeJS.ErrnoException;
          throw new ZillizHashError(batch.paths[k], e.code ?? "EIO", e.message, { cause: err });
        }
        if (failed || r === undefined) return;
        onResult(batch.start + k, r);
      }
    }
  };

  const workers = Array.from({ length: workerCount }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    await Promise.all([
      here(),
      ...workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let busy: Batch | undefined;
            const fail = (err: Error) => {
              failed = true;
              reject(err);
            };
            const feed = () => {
              busy = failed ? undefined : nextBatch();
              if (!busy) return resolve();
              worker.postMessage({ paths: busy.paths, identities: busy.identities });
            };
            worker.on("message", (msg: { results: Array<HashResult & { error?: string; message?: string }> }) => {
              const batch = busy!;
              for (let k = 0; k < msg.results.length; k++) {
                const r = msg.results[k];
                if (r.error) return fail(new ZillizHashError(batch.paths[k], r.error, r.message ?? r.error));
                if (!failed) onResult(batch.start + k, r.parts ? { sha256: r.sha256, size: r.size, parts: r.parts } : { sha256: r.sha256, size: r.size });
              }
              feed();
            });
            worker.on("error", fail);
            // A worker that dies without an error event (out of memory, killed) must not hang the scan.
            worker.on("exit", (code) => {
              if (busy !== undefined) fail(new ZillizHashError(busy.paths[0], "EWORKER", `a hashing worker stopped unexpectedly (exit code ${code})`));
            });
            feed();
          }),
      ),
    ]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
