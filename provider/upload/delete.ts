/**
 * Removing files from a stage: DeleteObjects in batches of 1000, one
 * DeleteObject per key for stores that do not implement the batch call.
 * `deleteFiles` is what destroy runs; an upload run uses `deleteKeys` for
 * its removals after every upload arrived. Both remove only objects the
 * resource still owns (ownership.ts): another resource's are left in place.
 */
import { describeStorage, StorageRef, storageAt } from "../client/dialect";
import { ZillizStoreError, ZillizUploadError } from "../errors";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { normalizeStagePath, objectKey } from "./keys";
import type { RequestLimiter } from "./limiter";
import { entryOf, type Manifest } from "./manifest";
import type { ObjectOwner } from "./object-metadata";
import { describeForeign, describeShared, markOwned, splitOwned } from "./ownership";
import { s3Sdk } from "./s3";
import { StoreSession } from "./session";

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;
/** Stores that do not implement DeleteObjects (or want Content-MD5 for it) get one DeleteObject per key. */
const NO_BATCH_DELETE = new Set(["NotImplemented", "MissingContentMD5", "InvalidDigest"]);

export interface DeleteFailure {
  rel: string;
  err: unknown;
}

/**
 * Deletes `rels` (relative path -> object key in `keys`), pushing each one
 * removed onto `deleted`. Stops at the first batch that fails and returns
 * that failure; keys already gone count as deleted (S3 answers 204 for them).
 */
export async function deleteKeys(
  session: StoreSession,
  rels: readonly string[],
  keys: Readonly<Record<string, string>>,
  deleted: string[],
): Promise<DeleteFailure | undefined> {
  let Bucket: string;
  try {
    Bucket = await session.bucket();
  } catch (err) {
    return { rel: rels[0], err };
  }
  const { DeleteObjectCommand, DeleteObjectsCommand } = s3Sdk();
  const s3 = await session.s3();
  for (let i = 0; i < rels.length; i += DELETE_BATCH) {
    const batch = rels.slice(i, i + DELETE_BATCH);
    let res;
    try {
      res = await session.send(`DeleteObjects (${batch.length} keys)`, () =>
        s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((rel) => ({ Key: keys[rel] })), Quiet: true } })),
      );
    } catch (err) {
      const unsupported = err instanceof ZillizStoreError && (NO_BATCH_DELETE.has(err.storeCode) || err.status === 501);
      if (!unsupported) return { rel: batch[0], err };
      let failure: DeleteFailure | undefined;
      await Promise.all(
        batch.map(async (rel) => {
          try {
            await session.send(`DeleteObject ${rel}`, () => s3.send(new DeleteObjectCommand({ Bucket, Key: keys[rel] })));
            deleted.push(rel);
          } catch (e) {
            failure ??= { rel, err: e };
          }
        }),
      );
      if (failure) return failure;
      continue;
    }
    const refused = new Map((res.Errors ?? []).map((e) => [e.Key, e]));
    for (const rel of batch) if (!refused.has(keys[rel])) deleted.push(rel);
    const first = res.Errors?.[0];
    if (first) {
      const rel = batch.find((r) => keys[r] === first.Key) ?? batch[0];
      const storeCode = first.Code ?? "DeleteError";
      return {
        rel,
        err: new ZillizStoreError({ operation: `DeleteObjects ${rel}`, storeCode, description: `${storeCode}: ${first.Message ?? "the store refused to delete it"}` }),
      };
    }
  }
  return undefined;
}

/**
 * Removes those of `rels` the resource still owns alone (ownership.ts),
 * pushing each one gone onto `deleted` (removed, or already absent) and each
 * one another resource owns now, or also owns, onto `released` (left in
 * place, reported in one line; a shared one loses our token from its owner
 * set first). Returns the first failure, as deleteKeys does.
 */
export async function deleteOwned(
  session: StoreSession,
  run: { prefix: string; rels: readonly string[]; keys: Readonly<Record<string, string>>; known?: Manifest; owner?: ObjectOwner },
  out: { deleted: string[]; released: string[]; onNotice?: (line: string) => void; verb: string },
): Promise<DeleteFailure | undefined> {
  // Objects a listing shows as this resource stamped them are deleted page
  // by page, while the next page is listed; the rest wait for their HEAD.
  const early: Promise<DeleteFailure | undefined>[] = [];
  const started = new Set<string>();
  let pending: string[] = [];
  const onMine = (rels: string[]): void => {
    pending.push(...rels);
    while (pending.length >= DELETE_BATCH) {
      const batch = pending.slice(0, DELETE_BATCH);
      pending = pending.slice(DELETE_BATCH);
      batch.forEach((rel) => started.add(rel));
      early.push(deleteKeys(session, batch, run.keys, out.deleted).catch((err: unknown) => ({ rel: batch[0], err })));
    }
  };
  const settle = async (): Promise<DeleteFailure | undefined> => (await Promise.all(early)).find((f) => f !== undefined);
  let split;
  try {
    split = await splitOwned(session, {
      prefix: run.prefix,
      rels: run.rels,
      entry: (rel) => entryOf(run.known, rel),
      owner: run.owner,
      pathObjects: Math.max(run.rels.length, Object.keys(run.known ?? {}).length),
      onMine,
    });
  } catch (err) {
    return (await settle()) ?? { rel: run.rels[0], err };
  }
  const earlyFailure = await settle();
  if (earlyFailure) return earlyFailure;
  out.released.push(...split.foreign.map((f) => f.rel));
  // Shared objects stay for their other owners; only our token leaves the
  // set, and only if nobody rewrote the object since the HEAD (its ETag).
  let failure: DeleteFailure | undefined;
  const letGo: typeof split.shared = [];
  await Promise.all(
    split.shared.map(async (shared) => {
      const { rel, sha256, etag, rest } = shared;
      try {
        await markOwned(session, run.prefix + rel, rel, sha256, rest, etag);
        out.released.push(rel);
        letGo.push(shared);
      } catch (err) {
        failure ??= { rel, err };
      }
    }),
  );
  for (const line of [describeForeign(split.foreign, out.verb), describeShared(letGo.sort((a, b) => (a.rel < b.rel ? -1 : 1)), out.verb)]) {
    if (line) out.onNotice?.(session.targets.redact(line));
  }
  if (failure) return failure;
  out.deleted.push(...split.gone);
  return deleteKeys(
    session,
    split.mine.filter((rel) => !started.has(rel)),
    run.keys,
    out.deleted,
  );
}

export interface DeleteFilesOptions {
  /** Where temporary credentials come from; a `ZillizClient` will do. */
  targets: UploadTargetSource;
  /** A bound shared with other runs in the process. */
  limiter?: RequestLimiter;
  /** Requests in flight. Default 16. */
  concurrency?: number;
  /**
   * The deleting resource. Objects another owner's mark are left in place;
   * undefined (state from before owners) leaves every marked object.
   */
  owner?: ObjectOwner;
  /** The resource's manifest: its stamps spare HEADs, its size tells how large the path is. */
  known?: Manifest;
  /** A line for the user: objects left because another resource took them over. */
  onNotice?: (line: string) => void;
}

/**
 * Removes `rels` (relative to `where.path`) from a stage: what destroy does
 * with the files a resource owns. Throws ZillizUploadError naming what was
 * removed when a removal fails; errors of the apply call come as they are.
 * `deleted` lists what is gone (removed, or already absent); `foreign` what
 * was left because another resource owns it now.
 */
export async function deleteFiles(
  where: StorageRef,
  rels: readonly string[],
  options: DeleteFilesOptions,
): Promise<{ deleted: string[]; foreign: string[] }> {
  const unique = [...new Set(rels)];
  if (unique.length === 0) return { deleted: [], foreign: [] };
  const stagePath = normalizeStagePath(where.path);
  const targets = new UploadTargetCache(options.targets, storageAt(where, stagePath));
  const first = await targets.get();
  const keys: Record<string, string> = Object.create(null);
  for (const rel of unique) keys[rel] = objectKey(first.prefix, stagePath, rel);
  const session = new StoreSession(targets, { concurrency: options.concurrency ?? 16, limiter: options.limiter, requestTimeoutMs: 60_000 });
  const deleted: string[] = [];
  const foreign: string[] = [];
  let failure: DeleteFailure | undefined;
  try {
    failure = await deleteOwned(
      session,
      { prefix: first.prefix + stagePath, rels: unique, keys, known: options.known, owner: options.owner },
      { deleted, released: foreign, onNotice: options.onNotice, verb: "left" },
    );
  } finally {
    session.close();
  }
  if (failure) {
    const why = failure.err instanceof Error ? failure.err.message : String(failure.err);
    throw new ZillizUploadError(
      targets.redact(
        `Could not delete ${failure.rel} from ${describeStorage(where)} (${why}). ${deleted.length} of ${unique.length} removals were done; run again to remove the rest.`,
      ),
      { completed: [], deleted: deleted.sort(), cause: failure.err },
    );
  }
  return { deleted: deleted.sort(), foreign: foreign.sort() };
}
