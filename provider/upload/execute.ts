/**
 * Execute a plan: upload the planned files into the stage and delete the
 * planned removals, verifying that every byte sent hashes to the planned
 * SHA-256. On failure, says exactly which files arrived, so a rerun sends
 * only what is missing.
 */
import { createHash } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { ZillizStageError, ZillizUploadError, ZillizValidationError } from "../errors";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { normalizeStagePath, objectKey } from "./keys";
import type { Manifest, ManifestEntry } from "./manifest";
import { RequestLimiter, Slots } from "./limiter";
import { ObjectPutter } from "./put";
import { createS3Client, describeS3Error, s3Addressing, s3Sdk, httpStatus, S3RetryPolicy, s3ErrorCode, withS3Retry } from "./s3";

export type { UploadTargetSource } from "./credentials";

export interface UploadJob {
  stageName: string;
  /** Normalised stage path: "" or ending in "/". */
  path: string;
  /** The directory the manifest's relative paths are relative to. */
  root: string;
  manifest: Manifest;
  /** Relative paths to send; each must be in `manifest`. */
  upload: string[];
  /** Relative paths to remove from the stage. */
  delete: string[];
}

export interface UploadProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ExecuteOptions {
  /** Where temporary credentials come from; a `StageClient` will do. */
  targets: UploadTargetSource;
  /** Requests in flight (single PUTs and parts together). Default 16. */
  concurrency?: number;
  /**
   * A bound shared with other uploads running in the same process (the
   * providers pass one per process); each request holds a slot of both.
   */
  limiter?: RequestLimiter;
  /** Files at least this large go multipart. Default 16 MiB. */
  multipartThreshold?: number;
  /** Default 8 MiB; at least 5 MiB (S3's minimum), grown so that no file needs more than 10,000 parts. */
  partSize?: number;
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number;
  /** S3 socket inactivity timeout. Default 60 s. */
  requestTimeoutMs?: number;
  /** Apply again this long before the credentials expire. Default min(60 s, a quarter of their lifetime). */
  refreshMarginMs?: number;
  /** Called after every file, and after every part of a multipart file. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadOutcome {
  /** Relative paths uploaded and verified, sorted. */
  uploaded: string[];
  /** Relative paths removed from the stage, sorted. */
  deleted: string[];
  /** Payload bytes the store accepted (retries not counted twice). */
  bytesSent: number;
  /** From the apply answer; "" when there was nothing to do and no apply was made. */
  stagePrefix: string;
  /** relative path -> object key, for every uploaded and deleted file. */
  keys: Record<string, string>;
  /** Apply calls made (1, plus one per credential renewal). */
  applies: number;
}

const MiB = 1024 * 1024;
/** S3's limits on multipart uploads. */
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MiB;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
/** Read-only; non-blocking so a file swapped for a FIFO cannot hang the open. */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);
/** Stores that do not implement DeleteObjects (or want Content-MD5 for it) get one DeleteObject per key. */
const NO_BATCH_DELETE = new Set(["NotImplemented", "MissingContentMD5", "InvalidDigest"]);

/** A local file no longer matches the manifest the plan was made from. */
class ChangedFileError extends ZillizStageError {
  constructor(rel: string, entry: ManifestEntry, found: string) {
    super(
      `${rel} changed since it was scanned (expected ${entry.size} bytes, sha256 ${entry.sha256}; found ${found}); ` +
        `nothing was stored for it. Run again to upload the new content.`,
    );
  }
}

/** The run is already failing because of another file. */
class StoppedError extends ZillizStageError {}

/** Reads exactly `length` bytes at `position`; fewer only at end of file. */
async function readFully(handle: fs.FileHandle, buf: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await handle.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Opens a file the plan expects to be a regular file of `entry.size` bytes, or says it changed. */
async function openPlanned(file: string, rel: string, entry: ManifestEntry): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ChangedFileError(rel, entry, "no file");
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ChangedFileError(rel, entry, "not a regular file");
    if (st.size !== entry.size) throw new ChangedFileError(rel, entry, `${st.size} bytes`);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** True when the file has bytes beyond `size` (it grew after the stat). */
async function hasMoreThan(handle: fs.FileHandle, size: number): Promise<boolean> {
  const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size);
  return bytesRead > 0;
}

/**
 * Uploads `job.upload` into the stage and then deletes `job.delete`, with
 * temporary credentials from `options.targets`. Throws ZillizValidationError
 * before sending anything when the job cannot be done (total over the
 * stage's limit, key too long, endpoint not https), and ZillizUploadError
 * (with what did arrive) when a file could not be stored.
 */
export async function executeUpload(job: UploadJob, options: ExecuteOptions): Promise<UploadOutcome> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16) || 1);
  const threshold = options.multipartThreshold ?? 16 * MiB;
  const policy: S3RetryPolicy = { maxAttempts: Math.max(1, options.maxAttempts ?? 5), baseDelayMs: 200, maxDelayMs: 10_000 };
  const stagePath = normalizeStagePath(job.path);
  const uploads = [...new Set(job.upload)];
  const deletes = [...new Set(job.delete)];
  for (const rel of uploads) {
    if (!job.manifest[rel]) throw new ZillizValidationError("source", `${rel} is planned for upload but missing from the manifest; scan again`);
  }
  if (uploads.length === 0 && deletes.length === 0) {
    return { uploaded: [], deleted: [], bytesSent: 0, stagePrefix: "", keys: {}, applies: 0 };
  }

  // Everything that can be refused is refused before the first byte moves.
  const targets = new UploadTargetCache(options.targets, { stageName: job.stageName, path: stagePath }, options.refreshMarginMs);
  const first = await targets.get();
  const keys: Record<string, string> = {};
  for (const rel of [...uploads, ...deletes]) keys[rel] = objectKey(first.stagePrefix, stagePath, rel);
  const bytesTotal = uploads.reduce((sum, rel) => sum + job.manifest[rel].size, 0);
  const limit = first.condition.maxContentLength;
  // 0 is read as "no limit given", not "nothing may be uploaded".
  if (limit > 0 && bytesTotal > limit) {
    throw new ZillizValidationError(
      "source",
      `${uploads.length} files totalling ${bytesTotal} bytes exceed the stage's upload limit of ${limit} bytes ` +
        `(condition.maxContentLength); nothing was uploaded. Split the files over several uploads (e.g. several StagedFiles ` +
        `resources with different paths) or leave some out with \`exclude\`.`,
    );
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  // The SDK client (multipart, deletes) is made on first use: small files go through the putter.
  let sdkClient: S3Client | undefined;
  const s3 = () => (sdkClient ??= createS3Client(first, targets, { maxSockets: concurrency, requestTimeoutMs }));
  const { url, pathStyle } = s3Addressing(first.endpoint);
  const putter = new ObjectPutter(targets, { endpoint: url, region: first.region, pathStyle, maxSockets: concurrency, requestTimeoutMs });

  const slots = new Slots(new RequestLimiter(concurrency), options.limiter);
  const uploaded: string[] = [];
  const deleted: string[] = [];
  let bytesSent = 0;
  let bytesDone = 0;
  let failure: { rel: string; verb: "upload" | "delete"; err: unknown } | undefined;
  const stopped = () => failure !== undefined;
  const progress = () => {
    try {
      options.onProgress?.({ filesDone: uploaded.length, filesTotal: uploads.length, bytesDone, bytesTotal });
    } catch {
      // A broken progress display is no reason to fail an upload.
    }
  };
  const bucket = () => targets.get().then((t) => t.bucketName);
  /** One request, holding a slot, with retries. */
  const send = <T>(fn: () => Promise<T>) => slots.run(() => withS3Retry(targets, policy, fn, stopped));

  async function putSmall(rel: string, entry: ManifestEntry): Promise<void> {
    // The slot is taken before reading, so at most `concurrency` bodies are in memory.
    await slots.run(async () => {
      if (stopped()) throw new StoppedError("stopped after another file failed");
      const handle = await openPlanned(path.join(job.root, rel), rel, entry);
      let body: Buffer;
      try {
        body = Buffer.allocUnsafe(entry.size);
        const n = await readFully(handle, body, 0);
        if (n !== entry.size) throw new ChangedFileError(rel, entry, `${n} bytes`);
        if (await hasMoreThan(handle, entry.size)) throw new ChangedFileError(rel, entry, "more bytes");
      } finally {
        await handle.close();
      }
      const sha256 = createHash("sha256").update(body).digest("hex");
      if (sha256 !== entry.sha256) throw new ChangedFileError(rel, entry, `sha256 ${sha256}`);
      const Bucket = await bucket();
      await withS3Retry(targets, policy, () => putter.put({ bucket: Bucket, key: keys[rel], body, sha256 }), stopped);
      bytesSent += body.length;
      bytesDone += body.length;
    });
  }

  async function putMultipart(rel: string, entry: ManifestEntry): Promise<void> {
    const { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } = s3Sdk();
    const partSize = Math.max(options.partSize ?? 8 * MiB, MIN_PART, Math.ceil(entry.size / MAX_PARTS));
    const partCount = Math.max(1, Math.ceil(entry.size / partSize));
    const handle = await openPlanned(path.join(job.root, rel), rel, entry);
    const Bucket = await bucket();
    const Key = keys[rel];
    let uploadId: string | undefined;
    const parts: Promise<{ PartNumber: number; ETag: string }>[] = [];
    try {
      const created = await send(() => s3().send(new CreateMultipartUploadCommand({ Bucket, Key })));
      if (!created.UploadId) throw new ZillizStageError("the store started a multipart upload without an UploadId");
      uploadId = created.UploadId;
      const UploadId = uploadId;
      // Parts are read in order (the hash needs them in order) and sent
      // concurrently; a part's buffer lives only while it holds a slot, so
      // memory stays at most concurrency × partSize.
      const hash = createHash("sha256");
      // The first part that failed for good: no point reading the rest of the file.
      let partFailure: { err: unknown } | undefined;
      for (let n = 1; n <= partCount; n++) {
        if (partFailure) throw partFailure.err;
        if (stopped()) throw new StoppedError("stopped after another file failed");
        await slots.acquire();
        let chunk: Buffer;
        try {
          const offset = (n - 1) * partSize;
          chunk = Buffer.allocUnsafe(Math.min(partSize, entry.size - offset));
          const read = await readFully(handle, chunk, offset);
          if (read !== chunk.length) throw new ChangedFileError(rel, entry, `${offset + read} bytes`);
        } catch (err) {
          slots.release();
          throw err;
        }
        hash.update(chunk);
        const PartNumber = n;
        const part = withS3Retry(
          targets,
          policy,
          () => s3().send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: chunk, ContentLength: chunk.length })),
          stopped,
        )
          .then((res) => {
            if (!res.ETag) throw new ZillizStageError(`the store accepted part ${PartNumber} without an ETag`);
            bytesSent += chunk.length;
            bytesDone += chunk.length;
            progress();
            return { PartNumber, ETag: res.ETag };
          })
          .finally(() => slots.release());
        // Observed later by Promise.all; this keeps a failure from counting as unhandled meanwhile.
        part.catch((err) => {
          partFailure ??= { err };
        });
        parts.push(part);
      }
      if (await hasMoreThan(handle, entry.size)) throw new ChangedFileError(rel, entry, "more bytes");
      const sha256 = hash.digest("hex");
      if (sha256 !== entry.sha256) throw new ChangedFileError(rel, entry, `sha256 ${sha256}`);
      const done = await Promise.all(parts);
      await send(() => s3().send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })));
    } catch (err) {
      // Never leave an incomplete upload behind: it costs storage and hides from listings.
      await Promise.allSettled(parts);
      if (uploadId !== undefined) {
        const UploadId = uploadId;
        await withS3Retry(targets, policy, () => s3().send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))).catch(() => undefined);
      }
      throw err;
    } finally {
      await handle.close();
    }
  }

  async function deleteBatch(batch: string[], Bucket: string): Promise<void> {
    const { DeleteObjectCommand, DeleteObjectsCommand } = s3Sdk();
    let res;
    try {
      res = await send(() =>
        s3().send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((rel) => ({ Key: keys[rel] })), Quiet: true } })),
      );
    } catch (err) {
      if (!NO_BATCH_DELETE.has(s3ErrorCode(err)) && httpStatus(err) !== 501) throw err;
      // One request per key; S3 answers 204 for keys that are already gone.
      await Promise.all(
        batch.map(async (rel) => {
          try {
            await send(() => s3().send(new DeleteObjectCommand({ Bucket, Key: keys[rel] })));
            deleted.push(rel);
          } catch (e) {
            failure ??= { rel, verb: "delete", err: e };
          }
        }),
      );
      return;
    }
    const refused = new Map((res.Errors ?? []).map((e) => [e.Key, e]));
    for (const rel of batch) if (!refused.has(keys[rel])) deleted.push(rel);
    const firstError = res.Errors?.[0];
    if (firstError) {
      const rel = batch.find((r) => keys[r] === firstError.Key) ?? batch[0];
      const err = Object.assign(new Error(firstError.Message ?? "the store refused to delete it"), { Code: firstError.Code ?? "DeleteError" });
      failure ??= { rel, verb: "delete", err };
    }
  }

  try {
    // A pool of file workers; every request still takes a slot.
    let next = 0;
    const worker = async () => {
      while (!stopped() && next < uploads.length) {
        const rel = uploads[next++];
        const entry = job.manifest[rel];
        try {
          if (entry.size >= threshold) await putMultipart(rel, entry);
          else await putSmall(rel, entry);
          uploaded.push(rel);
          progress();
        } catch (err) {
          if (!(err instanceof StoppedError)) failure ??= { rel, verb: "upload", err };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, uploads.length) }, worker));

    // Removals only after every upload arrived: a failed run never deletes
    // something before its replacement is there.
    if (!failure && deletes.length > 0) {
      const Bucket = await bucket().catch((err) => {
        failure ??= { rel: deletes[0], verb: "delete", err };
        return "";
      });
      for (let i = 0; i < deletes.length && !failure; i += DELETE_BATCH) {
        const batch = deletes.slice(i, i + DELETE_BATCH);
        try {
          await deleteBatch(batch, Bucket);
        } catch (err) {
          failure ??= { rel: batch[0], verb: "delete", err };
        }
      }
    }
  } finally {
    sdkClient?.destroy();
    await putter.close();
  }

  if (failure) throw uploadError(job.stageName, failure, { uploads: uploads.length, deletes: deletes.length }, uploaded, deleted, targets);
  return {
    uploaded: uploaded.sort(),
    deleted: deleted.sort(),
    bytesSent,
    stagePrefix: first.stagePrefix,
    keys,
    applies: targets.applies,
  };
}

function uploadError(
  stageName: string,
  failure: { rel: string; verb: "upload" | "delete"; err: unknown },
  totals: { uploads: number; deletes: number },
  uploaded: string[],
  deleted: string[],
  targets: UploadTargetCache,
): ZillizUploadError {
  const { rel, verb, err } = failure;
  // Our own errors already say what happened; store errors get their S3 code in front.
  const why = err instanceof ZillizStageError ? err.message : describeS3Error(err);
  if (err instanceof Error) err.message = targets.redact(err.message);
  const done =
    verb === "upload"
      ? `${uploaded.length} of ${totals.uploads} files arrived and are recorded`
      : `${uploaded.length} of ${totals.uploads} files arrived and ${deleted.length} of ${totals.deletes} removals were done`;
  const where = verb === "upload" ? "into" : "from";
  return new ZillizUploadError(
    targets.redact(`Could not ${verb} ${rel} ${where} stage ${stageName} (${why}). ${done}; run again to send only what is missing.`),
    { completed: [...uploaded].sort(), deleted: [...deleted].sort(), cause: err },
  );
}
