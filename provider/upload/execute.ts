/**
 * Execute a plan: upload the planned files into the stage and delete the
 * planned removals, verifying that every byte sent hashes to the planned
 * SHA-256. On failure, says exactly which files arrived, so a rerun sends
 * only what is missing.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { ZillizStageError, ZillizUploadError, ZillizValidationError } from "../errors";
import { objectKey } from "./keys";
import type { Manifest, ManifestEntry } from "./manifest";
import { createS3Client, RetryOptions, s3ErrorCode, UploadTargetCache, UploadTargetSource, withS3Retry } from "./s3";

export interface UploadJob {
  stageName: string;
  /** Normalised stage path: "" or ending in "/". */
  path: string;
  /** The directory the manifest's relative paths are relative to. */
  root: string;
  manifest: Manifest;
  upload: string[];
  delete: string[];
}

export interface UploadProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ExecuteOptions {
  targets: UploadTargetSource;
  /** Requests in flight (single PUTs and parts together). Default 16. */
  concurrency?: number;
  /** Files at least this large go multipart. Default 16 MiB. */
  multipartThreshold?: number;
  /** Default 8 MiB, grown so that no file needs more than 10,000 parts. */
  partSize?: number;
  /** Per request. Default 5. */
  maxAttempts?: number;
  /** S3 socket inactivity timeout. Default 60 s. */
  requestTimeoutMs?: number;
  /** Renew credentials this long before they expire. Default min(60 s, a quarter of their lifetime). */
  refreshMarginMs?: number;
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadOutcome {
  uploaded: string[];
  deleted: string[];
  bytesSent: number;
  stagePrefix: string;
  /** relative path -> object key */
  keys: Record<string, string>;
  /** Apply calls made (1, plus one per credential renewal). */
  applies: number;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MiB;

/** Bounds the requests in flight across files and parts. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** A local file no longer matches the manifest the plan was made from. */
class ChangedFileError extends ZillizStageError {}

function changed(rel: string, entry: ManifestEntry, size: number, sha256: string): ChangedFileError {
  return new ChangedFileError(
    `${rel} changed since it was scanned (expected ${entry.size} bytes, sha256 ${entry.sha256.slice(0, 12)}…; ` +
      `found ${size} bytes, sha256 ${sha256.slice(0, 12)}…); nothing was stored for it. Run again to upload the new content.`,
  );
}

export async function executeUpload(job: UploadJob, options: ExecuteOptions): Promise<UploadOutcome> {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const threshold = options.multipartThreshold ?? 16 * MiB;
  const retry: RetryOptions = { maxAttempts: options.maxAttempts ?? 5, baseDelayMs: 200, maxDelayMs: 10_000 };
  const targets = new UploadTargetCache(options.targets, { stageName: job.stageName, path: job.path }, options.refreshMarginMs);

  // Everything that can be refused is refused before the first byte moves.
  const first = await targets.get();
  const keys: Record<string, string> = {};
  for (const rel of [...job.upload, ...job.delete]) keys[rel] = objectKey(first.stagePrefix, job.path, rel);
  const bytesTotal = job.upload.reduce((sum, rel) => sum + job.manifest[rel].size, 0);
  const limit = first.condition.maxContentLength;
  if (limit > 0 && bytesTotal > limit) {
    throw new ZillizValidationError(
      "source",
      `${job.upload.length} files totalling ${bytesTotal} bytes exceed the stage's upload limit of ${limit} bytes ` +
        `(condition.maxContentLength); nothing was uploaded. Split the files over several StagedFiles resources or exclude some.`,
    );
  }

  const s3 = createS3Client(first, targets, { maxSockets: concurrency, requestTimeoutMs: options.requestTimeoutMs ?? 60_000 });
  const slots = new Semaphore(concurrency);
  const uploaded: string[] = [];
  const deleted: string[] = [];
  let bytesSent = 0;
  let bytesDone = 0;
  let failure: { rel: string; err: unknown } | undefined;
  const stopped = () => failure !== undefined;
  const progress = () =>
    options.onProgress?.({ filesDone: uploaded.length, filesTotal: job.upload.length, bytesDone, bytesTotal });

  const send = <T>(fn: () => Promise<T>) => slots.run(() => withS3Retry(targets, retry, fn, stopped));

  async function putSmall(rel: string, entry: ManifestEntry): Promise<void> {
    const body = await fs.readFile(path.join(job.root, rel));
    const sha256 = createHash("sha256").update(body).digest("hex");
    if (body.length !== entry.size || sha256 !== entry.sha256) throw changed(rel, entry, body.length, sha256);
    const target = await targets.get();
    await send(() => s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: keys[rel], Body: body, ContentLength: body.length })));
    bytesSent += body.length;
    bytesDone += body.length;
  }

  async function putMultipart(rel: string, entry: ManifestEntry): Promise<void> {
    const partSize = Math.max(options.partSize ?? 8 * MiB, MIN_PART, Math.ceil(entry.size / MAX_PARTS));
    const target = await targets.get();
    const bucket = target.bucketName;
    const created = await send(() => s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: keys[rel] })));
    const uploadId = created.UploadId!;
    const handle = await fs.open(path.join(job.root, rel), "r");
    const hash = createHash("sha256");
    const parts: Promise<{ PartNumber: number; ETag: string }>[] = [];
    let size = 0;
    try {
      // Parts are read in order (the hash needs them in order) and sent
      // concurrently; the semaphore bounds how many buffers are alive.
      for (let n = 1; !stopped(); n++) {
        await slots.acquire();
        const buf = Buffer.allocUnsafe(partSize);
        const { bytesRead } = await handle.read(buf, 0, partSize, null);
        if (bytesRead === 0 && n > 1) {
          slots.release();
          break;
        }
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        size += bytesRead;
        parts.push(
          withS3Retry(targets, retry, () => s3.send(new UploadPartCommand({ Bucket: bucket, Key: keys[rel], UploadId: uploadId, PartNumber: n, Body: chunk, ContentLength: bytesRead })), stopped)
            .then((res) => {
              bytesSent += bytesRead;
              bytesDone += bytesRead;
              progress();
              return { PartNumber: n, ETag: res.ETag! };
            })
            .finally(() => slots.release()),
        );
        // Keep a failed part from being reported as unhandled while we read on.
        parts[parts.length - 1].catch(() => undefined);
        if (bytesRead < partSize) break;
      }
      const done = await Promise.all(parts);
      const sha256 = hash.digest("hex");
      if (size !== entry.size || sha256 !== entry.sha256) throw changed(rel, entry, size, sha256);
      if (stopped()) throw new ZillizStageError("stopped after another file failed");
      await send(() =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: keys[rel], UploadId: uploadId, MultipartUpload: { Parts: done } })),
      );
    } catch (err) {
      // Never leave an incomplete upload behind: it costs storage and hides in listings.
      await Promise.allSettled(parts);
      await withS3Retry(targets, retry, () => s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: keys[rel], UploadId: uploadId }))).catch(
        () => undefined,
      );
      throw err;
    } finally {
      await handle.close();
    }
  }

  try {
    // A pool of file workers; each request still takes a slot.
    let next = 0;
    const worker = async () => {
      while (!stopped() && next < job.upload.length) {
        const rel = job.upload[next++];
        const entry = job.manifest[rel];
        try {
          if (entry.size >= threshold) await putMultipart(rel, entry);
          else await putSmall(rel, entry);
          uploaded.push(rel);
          progress();
        } catch (err) {
          failure ??= { rel, err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, job.upload.length) }, worker));

    if (!failure) {
      // Removals only after every upload arrived: a failed run never deletes
      // something before its replacement is there.
      const target = await targets.get();
      for (let i = 0; i < job.delete.length && !failure; i += 1000) {
        const batch = job.delete.slice(i, i + 1000);
        try {
          const res = await send(() =>
            s3.send(new DeleteObjectsCommand({ Bucket: target.bucketName, Delete: { Objects: batch.map((rel) => ({ Key: keys[rel] })), Quiet: true } })),
          );
          const errors = new Map((res.Errors ?? []).map((e) => [e.Key, e]));
          for (const rel of batch) if (!errors.has(keys[rel])) deleted.push(rel);
          const firstError = res.Errors?.[0];
          if (firstError) {
            const rel = batch.find((r) => keys[r] === firstError.Key) ?? batch[0];
            failure = { rel, err: Object.assign(new Error(firstError.Message ?? "delete refused"), { name: firstError.Code ?? "DeleteError" }) };
          }
        } catch (err) {
          failure = { rel: batch[0], err };
        }
      }
    }
  } finally {
    s3.destroy();
  }

  if (failure) {
    const { rel, err } = failure;
    const why = err instanceof ChangedFileError || err instanceof ZillizValidationError ? (err as Error).message : `${s3ErrorCode(err)}: ${(err as Error)?.message ?? err}`;
    const verb = job.upload.includes(rel) ? "upload" : "delete";
    throw new ZillizUploadError(
      `Could not ${verb} ${rel} into stage ${job.stageName} (${why}). ${uploaded.length} of ${job.upload.length} files arrived and are recorded; ` +
        `run again to send only what is missing.`,
      { completed: [...uploaded].sort(), deleted: [...deleted].sort(), cause: err },
    );
  }
  return { uploaded: uploaded.sort(), deleted: deleted.sort(), bytesSent, stagePrefix: first.stagePrefix, keys, applies: targets.applies };
}
