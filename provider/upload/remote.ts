/**
 * What a stage holds under a path, read with the stage's own temporary
 * credentials: `read` (refresh) uses it to notice files removed or changed
 * behind Pulumi's back, or taken over by another resource.
 */
import type { StorageRef } from "../client/dialect";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import type { ManifestEntry } from "./manifest";
import type { ObjectOwner } from "./object-metadata";
import { headObject, type Listed, listObjects, listPages } from "./probe";
import { StoreSession } from "./session";

/**
 * One store session for a look at `where`, closed after `look`; `prefix` is
 * the path's full key prefix.
 */
async function withSession<T>(
  source: UploadTargetSource,
  where: StorageRef,
  concurrency: number,
  look: (session: StoreSession, prefix: string) => Promise<T>,
): Promise<T> {
  const targets = new UploadTargetCache(source, where);
  const target = await targets.get();
  const session = new StoreSession(targets, { concurrency, requestTimeoutMs: 60_000 });
  try {
    return await look(session, target.prefix + where.path);
  } finally {
    session.close();
  }
}

/** relative path -> size of every object under `prefix`. */
async function listSizes(session: StoreSession, prefix: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  await listPages(session, prefix, (page) => page.forEach(([rel, seen]) => files.set(rel, seen.size)));
  return files;
}

/** relative path (below `path`) -> size, for every object under stagePrefix + path. */
export function listRemoteFiles(source: UploadTargetSource, where: StorageRef): Promise<Map<string, number>> {
  return withSession(source, where, 2, listSizes);
}

/** What refresh learns about the objects a resource records. */
export interface OwnedObjects {
  /** relative path -> size and LastModified of every object under the path. */
  listed: Map<string, Listed>;
  /** Recorded objects another resource owns now (taken over), with its URN. */
  foreign: Map<string, string>;
  /**
   * Recorded objects a HEAD found still ours (or unmarked), with the
   * listing's LastModified: their stamps from now on.
   */
  confirmed: Map<string, number>;
}

/**
 * Lists the path and reads the owner of each of `rels` whose listing does
 * not show it as stamped (`entry(rel).stamp`): one HEAD each.
 */
export async function inspectOwned(
  source: UploadTargetSource,
  where: StorageRef,
  run: { rels: readonly string[]; entry: (rel: string) => ManifestEntry | undefined; owner?: ObjectOwner },
): Promise<OwnedObjects> {
  const targets = new UploadTargetCache(source, where);
  const target = await targets.get();
  const session = new StoreSession(targets, { concurrency: 16, requestTimeoutMs: 60_000 });
  const prefix = target.prefix + where.path;
  const out: OwnedObjects = { listed: new Map(), foreign: new Map(), confirmed: new Map() };
  try {
    out.listed = await listObjects(session, prefix);
    await Promise.all(
      run.rels.map(async (rel) => {
        const seen = out.listed.get(rel);
        const entry = run.entry(rel);
        if (!seen || (entry?.stamp !== undefined && entry.stamp === seen.lastModified && entry.size === seen.size)) return;
        const head = await headObject(session, prefix + rel, rel);
        if (!head) return;
        const { tokens } = head.owner;
        const me = run.owner?.token;
        if (tokens.length > 0 && (me === undefined || !tokens.includes(me))) out.foreign.set(rel, head.owner.urn ?? "an unknown resource");
        // The listing's time, once the HEAD shows the same second: a rewrite in between would show another.
        // A shared object gets no stamp: our delete must HEAD it to leave the set rather than delete it.
        else if (tokens.length <= 1 && Math.floor(head.lastModified / 1000) === Math.floor(seen.lastModified / 1000) && head.size === seen.size) {
          out.confirmed.set(rel, seen.lastModified);
        }
      }),
    );
  } finally {
    session.close();
  }
  return out;
}

/**
 * Every object under stagePrefix + path with its size and the SHA-256 this
 * package records on each object it stores (x-amz-meta-sha256; undefined for
 * an object put there some other way). What an import rebuilds a files
 * resource from: one list, then one HEAD per object.
 */
export function listRemoteDigests(
  source: UploadTargetSource,
  where: StorageRef,
): Promise<Map<string, { size: number; sha256?: string }>> {
  return withSession(source, where, 4, async (session, prefix) => {
    const sizes = await listSizes(session, prefix);
    const heads = await Promise.all([...sizes.keys()].map((rel) => headObject(session, prefix + rel, rel)));
    const out = new Map<string, { size: number; sha256?: string }>();
    // An object removed between the listing and its HEAD is not there any more.
    [...sizes].forEach(([rel, size], i) => {
      const head = heads[i];
      if (head) out.set(rel, { size, sha256: head.sha256 });
    });
    return out;
  });
}
