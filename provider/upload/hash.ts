/**
 * SHA-256 of many files on every core. Each worker reads with a 1 MiB buffer
 * and hashes as it goes, so memory stays flat whatever the file sizes.
 *
 * The worker is created from source text rather than a file path: this code
 * runs as TypeScript under jest and as compiled JavaScript inside a Pulumi
 * provider process, and a path would be right for only one of them.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import { Worker } from "node:worker_threads";

export interface HashJob {
  path: string;
  size: number;
}

export interface HashResult {
  sha256: string;
  /** Bytes actually read: differs from the job's size when the file changed meanwhile. */
  size: number;
}

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
const flags = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0);
parentPort.on("message", (batch) => {
  const results = [];
  for (const path of batch.paths) {
    let fd;
    try {
      fd = fs.openSync(path, flags);
      const hash = createHash("sha256");
      let size = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        hash.update(n === buf.length ? buf : buf.subarray(0, n));
        size += n;
      }
      results.push({ sha256: hash.digest("hex"), size });
    } catch (err) {
      results.push({ error: (err && err.code) || String(err), message: String(err && err.message) });
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  parentPort.postMessage({ id: batch.id, results });
});
`;

/** Below this many bytes in all, starting workers costs more than it saves. */
const INLINE_LIMIT = 8 * 1024 * 1024;
/** A batch closes at this many bytes or files, whichever comes first. */
const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_FILES = 256;

export class HashError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function hashInline(path: string): Promise<HashResult> {
  const hash = createHash("sha256");
  let size = 0;
  const handle = await fs.open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest("hex"), size };
}

/** Hashes every job; results in the same order. */
export async function hashFiles(jobs: HashJob[], concurrency = os.availableParallelism()): Promise<HashResult[]> {
  const total = jobs.reduce((s, j) => s + j.size, 0);
  if (total < INLINE_LIMIT || concurrency <= 1 && total < INLINE_LIMIT * 4) {
    const out: HashResult[] = [];
    for (const job of jobs) {
      try {
        out.push(await hashInline(job.path));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new HashError(job.path, e.code ?? "EIO", e.message);
      }
    }
    return out;
  }

  // Batches in order, closed by size as well as count, so that one batch of
  // large files does not leave the other cores idle at the end.
  const batches: { id: number; start: number; paths: string[] }[] = [];
  let current: { id: number; start: number; paths: string[] } | undefined;
  let bytes = 0;
  jobs.forEach((job, i) => {
    if (!current || bytes + job.size > BATCH_BYTES || current.paths.length >= BATCH_FILES) {
      current = { id: batches.length, start: i, paths: [] };
      batches.push(current);
      bytes = 0;
    }
    current.paths.push(job.path);
    bytes += job.size;
  });

  const results: HashResult[] = new Array(jobs.length);
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, batches.length)) }, () => new Worker(WORKER_SOURCE, { eval: true }));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= batches.length) return resolve();
              const batch = batches[next++];
              worker.postMessage({ id: batch.id, paths: batch.paths });
            };
            worker.on("message", (msg: { id: number; results: Array<HashResult & { error?: string; message?: string }> }) => {
              const batch = batches[msg.id];
              for (let k = 0; k < msg.results.length; k++) {
                const r = msg.results[k];
                if (r.error) return reject(new HashError(batch.paths[k], r.error, r.message ?? r.error));
                results[batch.start + k] = { sha256: r.sha256, size: r.size };
              }
              feed();
            });
            worker.on("error", reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
