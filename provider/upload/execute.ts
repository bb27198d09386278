/**
 * Execute a plan: upload the planned files into the stage or volume and then delete
 * the planned removals, verifying that every byte sent hashes to the
 * planned SHA-256. On failure, says exactly which files arrived, so a rerun
 * sends only what is missing. Large files go through ./multipart, removals
 * through ./delete.
 */
import { createHash } from "node:crypto";
import { describeStorage, StorageRef, storageAt } from "../client/dialect";
import { ZillizFileChangedError, ZillizStageError, ZillizUploadError, ZillizValidationError } from "../errors";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { deleteOwned } from "./delete";
import { observeStamps } from "./probe";
import type { ObjectOwner } from "./object-metadata";
import { normalizeStagePath, objectKey } from "./keys";
import type { Identities } from "./local-file";
import { emptyManifest, entryOf, type Manifest, type ManifestEntry, MAX_PENDING_BYTES, PENDING_SHA256 } from "./manifest";
import { RequestLimiter } from "./limiter";
import { ArrivedWithoutDigestError, putMultipart, StoppedError } from "./multipart";
import { DEFAULT_PART_SIZE, MULTIPART_THRESHOLD } from "./part-size";
import { localSource, type PlannedSource } from "./planned-source";
import { ObjectPutter } from "./put";
import { recoverInterrupted, stopReason } from "./recover";
import { checkLimits } from "./limits";
import { s3Addressing } from "./s3";
import { StoreSession } from "./session";

export type { UploadTargetSource } from "./credentials";

/**
 * What to upload where: a stage (`stageName`) or a managed volume
 * (`volumeName`), the normalised `path` inside it ("" or ending in "/"),
 * and the files.
 */
export type UploadJob = StorageRef & UploadFiles;

export interface UploadFiles {
  /** The directory the manifest's relative paths are relative to. */
  root: string;
  manifest: Manifest;
  /** Relative paths to send; each must be in `manifest`. */
  upload: string[];
  /** Relative paths to remove from the stage. */
  delete: string[];
  /**
   * What the state records as in the stage (the previous manifest; {} or
   * absent for a create). Objects found at planned paths that are not
   * these are what an interrupted run left: adopted when they match.
   */
  known?: Manifest;
  /** The files the listing saw (scan.ts): a file found swapped at open is refused, not sent. */
  identities?: Identities;
  /**
   * Where the bytes come from when they are not local files under `root`
   * (an object store the source names); read and checked the same way.
   */
  source?: PlannedSource;
  /**
   * The resource writing: its mark goes with every object written, and
   * removals leave objects another resource owns. Absent only for callers
   * that predate owners (objects are then written unmarked).
   */
  owner?: ObjectOwner;
  /** Overwrite another resource's objects that hold different content, instead of refusing the run. */
  takeOver?: boolean;
}

export interface UploadProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ExecuteOptions {
  /** Where temporary credentials come from; a `ZillizClient` will do. */
  targets: UploadTargetSource;
  /** Requests in flight (single PUTs and parts together). Default 16. */
  concurrency?: number;
  /**
   * A bound shared with other uploads running in the same process (the
   * providers pass one per process); each request holds a slot of both.
   */
  limiter?: RequestLimiter;
  /**
   * Files at least this large go multipart. Default MULTIPART_THRESHOLD
   * (16 MiB), the size from which the scan computes part CRC32s: a file
   * below it that a lower threshold sends in parts is hashed again as it is
   * sent, to prove its bytes.
   */
  multipartThreshold?: number;
  /** Default 8 MiB; at least 5 MiB (S3's minimum), grown so that no file needs more than 10,000 parts. */
  partSize?: number;
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number;
  /** S3 socket inactivity timeout. Default 60 s. */
  requestTimeoutMs?: number;
  /** Apply again this long before the credentials expire. Default 300 s, or a quarter of their lifetime when that is shorter. */
  refreshMarginMs?: number;
  /** Called after every file, and after every part of a multipart file. */
  onProgress?: (progress: UploadProgress) => void;
  /** A line for the user: what was adopted, replaced or cleaned up from an interrupted run. */
  onNotice?: (line: string) => void;
  /** Aborted when the provider must stop: no new request starts and multipart uploads in flight are aborted. */
  signal?: AbortSignal;
}

export interface UploadOutcome {
  /** Relative paths uploaded and verified, sorted. */
  uploaded: string[];
  /** Relative paths planned for upload that were already in the store as planned (an interrupted run's), sorted. */
  adopted: string[];
  /** Relative paths whose incomplete multipart upload, left by an interrupted run, was aborted. */
  abortedUploads: string[];
  /** Relative paths removed from the stage, sorted. */
  deleted: string[];
  /** Payload bytes the store accepted (retries not counted twice). */
  bytesSent: number;
  /** From the apply answer; "" when there was nothing to do and no apply was made. */
  stagePrefix: string;
  /** relative path -> object key, for every uploaded and deleted file (an object without a prototype). */
  keys: Record<string, string>;
  /**
   * relative path -> the store's LastModified (ms) of each object this run
   * wrote or marked as its own, seen right after: the manifest's stamps.
   * An object whose stamp could not be read is absent (a HEAD will do later).
   */
  stamps: Map<string, number>;
  /** Planned removals left in place because another resource owns them now; no longer this resource's. */
  released: string[];
  /** Apply calls made (1, plus one per credential renewal). */
  applies: number;
}

/**
 * Uploads `job.upload` into the stage or volume and then deletes `job.delete`, with
 * temporary credentials from `options.targets`. Throws ZillizValidationError
 * before sending anything when the job cannot be done (total over the
 * stage's limit, key too long, endpoint not https), and ZillizUploadError
 * (with what did arrive) when a file could not be stored.
 */
export async function executeUpload(job: UploadJob, options: ExecuteOptions): Promise<UploadOutcome> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16) || 1);
  const threshold = options.multipartThreshold ?? MULTIPART_THRESHOLD;
  const stagePath = normalizeStagePath(job.path);
  const uploads = [...new Set(job.upload)];
  const deletes = [...new Set(job.delete)];
  for (const rel of uploads) {
    const entry = entryOf(job.manifest, rel);
    if (!entry) throw new ZillizValidationError("source", `${rel} is planned for upload but missing from the manifest; scan again`);
    // A multipart upload hashed on the way gets its digest by a CopyObject onto itself, which S3 allows up to 5 GiB.
    if (entry.sha256 === PENDING_SHA256 && entry.size > MAX_PENDING_BYTES) throw new ZillizValidationError("source", `${rel} is planned for upload without its SHA-256 and is too large to get it after; scan again`);
  }
  if (uploads.length === 0 && deletes.length === 0) {
    return { uploaded: [], adopted: [], abortedUploads: [], deleted: [], bytesSent: 0, stagePrefix: "", keys: Object.create(null), applies: 0, stamps: new Map(), released: [] };
  }

  // Everything that can be refused is refused before the first byte moves.
  const targets = new UploadTargetCache(options.targets, storageAt(job, stagePath), options.refreshMarginMs);
  const first = await targets.get();
  const keys: Record<string, string> = Object.create(null);
  for (const rel of [...uploads, ...deletes]) keys[rel] = objectKey(first.prefix, stagePath, rel);
  // An endpoint the store cannot be reached at is refused here, before any request.
  const { url, pathStyle } = s3Addressing(first);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const session = new StoreSession(targets, { concurrency, limiter: options.limiter, maxAttempts: options.maxAttempts, requestTimeoutMs, signal: options.signal });
  const known = job.known ?? emptyManifest();
  const prefix = first.prefix + stagePath;
  let recovered: Awaited<ReturnType<typeof recoverInterrupted>>;
  try {
    recovered = await recoverInterrupted(
      session,
      { prefix, uploads, deletes, manifest: job.manifest, known, threshold, owner: job.owner, takeOver: job.takeOver },
      options,
    );
  } catch (err) {
    session.close();
    // Refused (another resource's objects): nothing was written, the refusal says why.
    if (err instanceof ZillizValidationError) throw err;
    // Nothing was sent: the failure is the run's, in the form every failed upload takes.
    const failure = { rel: uploads[0] ?? deletes[0], verb: uploads.length > 0 ? ("upload" as const) : ("delete" as const), err };
    throw uploadError(describeStorage(job), failure, { uploads: uploads.length, deletes: deletes.length }, [], [], targets);
  }
  const adopted = new Set(recovered.adopted);
  const toSend = uploads.filter((rel) => !adopted.has(rel));
  const bytesTotal = toSend.reduce((sum, rel) => sum + job.manifest[rel].size, 0);
  try {
    checkLimits(job, first.condition, toSend.length, bytesTotal);
  } catch (err) {
    session.close();
    throw err;
  }
  const putter = new ObjectPutter(targets, {
    endpoint: url,
    region: first.region,
    pathStyle,
    auth: first.cloud === "gcp" ? "bearer" : "sigv4",
    maxSockets: concurrency,
    requestTimeoutMs,
    partChecksum: first.cloud === undefined || first.cloud === "aws" ? "crc32" : "none",
  });

  const source = job.source ?? localSource(job.root, job.identities);
  const uploaded: string[] = [];
  const deleted: string[] = [];
  const released: string[] = [];
  const stamps = new Map(recovered.stamps);
  let bytesSent = 0;
  let failure: { rel: string; verb: "upload" | "delete"; err: unknown } | undefined;
  const fail = (f: NonNullable<typeof failure>) => {
    failure ??= f;
    session.failing = true;
  };
  const progress = () => {
    try {
      options.onProgress?.({ filesDone: uploaded.length, filesTotal: toSend.length, bytesDone: bytesSent, bytesTotal });
    } catch {
      // A broken progress display is no reason to fail an upload.
    }
  };

  async function putSmall(rel: string, entry: ManifestEntry): Promise<void> {
    // The slot is taken before reading, so at most `concurrency` bodies are in memory.
    await session.slots.run(async () => {
      if (session.stopped()) throw new StoppedError("stopped after another file failed");
      const reader = await source.open(rel, entry);
      // Reused from file to file; given back only once a request accepted it, so no request in flight can still be reading it.
      const body = session.bodies.take(entry.size);
      try {
        const n = await reader.read(body, 0);
        if (n !== entry.size) throw new ZillizFileChangedError(rel, entry, `${n} bytes`);
        if (await reader.hasMoreThan(entry.size)) throw new ZillizFileChangedError(rel, entry, "more bytes");
      } finally {
        await reader.close();
      }
      const sha256 = createHash("sha256").update(body).digest("hex");
      // Hashed as it is sent (an object source's small object): these bytes are what the entry records.
      if (entry.sha256 === PENDING_SHA256) entry.sha256 = sha256;
      else if (sha256 !== entry.sha256) throw new ZillizFileChangedError(rel, entry, `sha256 ${sha256}`);
      const bucket = await session.bucket();
      await session.retry(`PutObject ${rel}`, () => putter.put({ bucket, key: keys[rel], body, sha256, owner: job.owner }));
      bytesSent += body.length;
      session.bodies.give(body);
    });
  }

  try {
    // A pool of file workers; every request still takes a slot.
    let next = 0;
    const worker = async () => {
      while (!session.stopped() && next < toSend.length) {
        const rel = toSend[next++];
        const entry = job.manifest[rel];
        try {
          if (entry.size >= threshold) {
            await putMultipart(session, putter, {
              rel,
              source,
              entry,
              key: keys[rel],
              owner: job.owner,
              partSize: options.partSize ?? DEFAULT_PART_SIZE,
              onPart: (bytes) => {
                bytesSent += bytes;
                progress();
              },
            });
          } else {
            await putSmall(rel, entry);
          }
          uploaded.push(rel);
          progress();
        } catch (err) {
          // There, with its digest known: recorded, though the run fails.
          if (err instanceof ArrivedWithoutDigestError) uploaded.push(rel);
          // A request cut off by the stop fails as the stop, not as the network error it became.
          if (options.signal?.aborted) fail({ rel, verb: "upload", err: stopReason(options.signal) });
          else if (!(err instanceof StoppedError)) fail({ rel, verb: "upload", err });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, toSend.length) }, worker));
    // Workers that saw the stop end quietly; if work was left, the run did not finish.
    if (options.signal?.aborted && !failure) {
      const done = new Set(uploaded);
      const unsent = toSend.find((r) => !done.has(r));
      const err = stopReason(options.signal);
      if (unsent !== undefined) fail({ rel: unsent, verb: "upload", err });
      else if (deletes.length > 0) fail({ rel: deletes[0], verb: "delete", err });
    }

    // Removals only after every upload arrived: a failed run never deletes
    // something before its replacement is there.
    if (!failure && deletes.length > 0) {
      const failed = await deleteOwned(
        session,
        { prefix, rels: deletes, keys, known, owner: job.owner },
        { deleted, released, onNotice: options.onNotice, verb: "not removing" },
      );
      if (failed) fail({ ...failed, verb: "delete" });
    }
    // The stamps of what this run wrote, read at once: an object rewritten
    // by someone else later shows another LastModified.
    if (!failure && job.owner) {
      const written = [...uploaded];
      try {
        for (const [rel, at] of await observeStamps(session, prefix, written, Object.keys(job.manifest).length)) stamps.set(rel, at);
      } catch {
        // Without a stamp, a later removal HEADs the object: slower, as safe.
      }
    }
  } finally {
    session.close();
    await putter.close();
  }

  if (failure) throw uploadError(describeStorage(job), failure, { uploads: uploads.length, deletes: deletes.length }, [...uploaded, ...adopted], deleted, targets);
  return {
    uploaded: uploaded.sort(),
    adopted: recovered.adopted,
    abortedUploads: recovered.aborted,
    deleted: deleted.sort(),
    bytesSent,
    stagePrefix: first.prefix,
    keys,
    applies: targets.applies,
    stamps,
    released: released.sort(),
  };
}

function uploadError(
  where: string,
  failure: { rel: string; verb: "upload" | "delete"; err: unknown },
  totals: { uploads: number; deletes: number },
  uploaded: string[],
  deleted: string[],
  targets: UploadTargetCache,
): ZillizUploadError {
  const { rel, verb, err } = failure;
  const why = err instanceof ZillizStageError ? err.message : String((err as Error)?.message ?? err);
  const done =
    verb === "upload"
      ? `${uploaded.length} of ${totals.uploads} files arrived and are recorded`
      : `${uploaded.length} of ${totals.uploads} files arrived and ${deleted.length} of ${totals.deletes} removals were done`;
  const direction = verb === "upload" ? "into" : "from";
  return new ZillizUploadError(
    targets.redact(`Could not ${verb} ${rel} ${direction} ${where} (${why}). ${done}; run again to send only what is missing.`),
    { completed: [...uploaded].sort(), deleted: [...deleted].sort(), cause: err },
  );
}
