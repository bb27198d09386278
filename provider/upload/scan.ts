/**
 * Scan: a listing of the source -> a manifest of relative path -> size,
 * SHA-256, mtime, reading only the files the previous manifest cannot vouch
 * for (hashing on worker threads, hash.ts). What is in the source, and
 * what is refused, is source-listing.ts.
 */
import * as path from "node:path";
import { ZillizHashError, ZillizValidationError } from "../errors";
import { hashEach } from "./hash";
import { emptyManifest, entryOf, Manifest, ManifestEntry, MAX_PENDING_BYTES, mtimeMicros, PENDING_SHA256, SHA256_HEX } from "./manifest";
import { hashObject, ObjectSourceClient } from "./object-source";
import { type ListOptions, listSource, type SourceListing, unreadable } from "./source-listing";

/** A file the listing found. */
type Candidate = SourceListing["files"][number];

export interface ScanOptions extends ListOptions {
  /** The previous manifest: a file whose size and mtime match its entry is not read again. */
  cache?: Manifest;
  /** Ignore the cache and read every file. */
  forceRehash?: boolean;
  /** Hashing threads; default: every core. */
  hashConcurrency?: number;
  /**
   * For an object source: which relative paths land on a key nothing
   * occupies, asked only when some object must be read. Objects going there
   * (up to MAX_PENDING_BYTES) are hashed as they are sent instead (their
   * entries hold PENDING_SHA256): no adoption or ownership check needs
   * their digest, and they are read once, not twice.
   */
  freeKeys?: () => Promise<(rel: string) => boolean>;
}

export interface ScanResult {
  /** The directory the manifest's paths are relative to. */
  root: string;
  /** Sorted by relative path. */
  manifest: Manifest;
  stats: { files: number; bytes: number; hashedFiles: number; hashedBytes: number; reusedFiles: number };
  /** Include/exclude patterns that matched no file (usually a typo: worth a warning). */
  unmatchedPatterns: string[];
}

/** Modification times compare to the microsecond, as the state keeps them. */
export function sameMtime(a: number, b: number): boolean {
  return mtimeMicros(a) === mtimeMicros(b);
}

/**
 * A cache entry is only trusted if it looks like one (state can be old or
 * hand-edited): a file's size and mtime, an object's size and ETag, match.
 */
function reusable(cached: ManifestEntry | undefined, c: Candidate): cached is ManifestEntry {
  return (
    cached !== undefined &&
    cached.size === c.size &&
    (c.etag === undefined ? sameMtime(cached.mtimeMs, c.mtimeMs) : cached.etag === c.etag) &&
    typeof cached.sha256 === "string" &&
    SHA256_HEX.test(cached.sha256)
  );
}

/**
 * Scans `source` (a file or a directory) into a manifest. Files are hashed
 * on worker threads unless the cache vouches for them; special files,
 * symlink loops and (by default) symlinks leading outside the source are
 * refused with a message naming the path and the way out.
 */
export async function scanSource(source: string, options: ScanOptions = {}): Promise<ScanResult> {
  return hashListing(await listSource(source, options), options);
}

/** Turns a listing into a manifest, reading only the files the cache cannot vouch for. */
export async function hashListing(listing: SourceListing, options: Pick<ScanOptions, "cache" | "forceRehash" | "hashConcurrency" | "freeKeys"> = {}): Promise<ScanResult> {
  if (listing.objects) return hashObjects(listing, options);
  const { root, files: candidates } = listing;
  const cache = options.forceRehash ? undefined : options.cache;
  const toHash: Candidate[] = [];
  // The cache's entry for each file it vouches for, by listing index (looked up once).
  const reused: (ManifestEntry | undefined)[] = new Array(candidates.length);
  for (let i = 0; i < candidates.length; i++) {
    const cached = entryOf(cache, candidates[i].rel);
    if (reusable(cached, candidates[i])) {
      reused[i] = cached;
      // Not read now: what an earlier scan of this listing read proves nothing about it.
      if (candidates[i].identity.hashed) delete candidates[i].identity.hashed;
    } else {
      toHash.push(candidates[i]);
    }
  }

  // Straight into manifest entries, by index: no array of jobs or results beside the listing.
  const hashed: ManifestEntry[] = new Array(toHash.length);
  try {
    await hashEach(
      {
        count: toHash.length,
        sizeAt: (i) => toHash[i].size,
        jobAt: (i) => ({ path: path.join(root, toHash[i].rel), size: toHash[i].size, identity: toHash[i].identity }),
      },
      (i, r) => {
        const c = toHash[i];
        // The size read is the truth; mtime is from the stat before the read, so
        // a file changed meanwhile is read again next time rather than trusted.
        hashed[i] = { size: r.size, sha256: r.sha256, mtimeMs: c.mtimeMs };
        // In memory with the listing, for the upload of these very bytes (multipart.ts).
        if (r.parts) c.identity.hashed = { sha256: r.sha256, size: r.size, ...r.parts };
        else if (c.identity.hashed) delete c.identity.hashed;
      },
      options.hashConcurrency,
    );
  } catch (err) {
    if (err instanceof ZillizHashError) {
      if (err.errno === "ENOTREG") {
        throw new ZillizValidationError("source", `${err.path} is not a regular file (it changed during the scan); only regular files can be uploaded`);
      }
      if (err.errno === "ELOOP" || err.errno === "ECHANGED") {
        const found = err.errno === "ELOOP" ? "a symlink where a regular file was listed (not followed)" : err.message.slice(err.path.length + 2);
        throw new ZillizValidationError(
          "source",
          `${err.path} changed after the source was listed: it is now ${found}; nothing was read from it. Run again, or leave it out with \`exclude\``,
          { cause: err },
        );
      }
      throw unreadable(err.path, err);
    }
    throw err;
  }

  // Cache hits and fresh hashes interleave; both come out in sorted order.
  const manifest = emptyManifest();
  let bytes = 0;
  let hashedBytes = 0;
  for (let i = 0, h = 0; i < candidates.length; i++) {
    const c = candidates[i];
    let entry: ManifestEntry;
    const cached = reused[i];
    if (cached) {
      entry = { size: cached.size, sha256: cached.sha256, mtimeMs: cached.mtimeMs };
    } else {
      entry = hashed[h++];
      hashedBytes += entry.size;
    }
    manifest[c.rel] = entry;
    bytes += entry.size;
  }
  return {
    root,
    manifest,
    stats: { files: candidates.length, bytes, hashedFiles: toHash.length, hashedBytes, reusedFiles: candidates.length - toHash.length },
    unmatchedPatterns: listing.unmatchedPatterns,
  };
}

/** Objects read at once while hashing an object source: each streams, so memory stays at a few chunks each. */
const OBJECT_HASH_CONCURRENCY = 8;

/**
 * hashListing for an object source: each object the cache cannot vouch for
 * (same size and ETag) is read once, streamed through SHA-256 and the part
 * CRC32s; its ETag goes into the entry.
 */
async function hashObjects(listing: SourceListing, options: Pick<ScanOptions, "cache" | "forceRehash" | "freeKeys">): Promise<ScanResult> {
  const cache = options.forceRehash ? undefined : options.cache;
  const candidates = listing.files;
  const entries: ManifestEntry[] = new Array(candidates.length);
  let toHash: number[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const cached = entryOf(cache, c.rel);
    if (reusable(cached, c)) entries[i] = { size: cached.size, sha256: cached.sha256, mtimeMs: c.mtimeMs, etag: c.etag };
    else toHash.push(i);
  }
  let deferred = 0;
  if (options.freeKeys && toHash.some((i) => candidates[i].size <= MAX_PENDING_BYTES)) {
    const free = await options.freeKeys();
    toHash = toHash.filter((i) => {
      const c = candidates[i];
      if (c.size > MAX_PENDING_BYTES || !free(c.rel)) return true;
      entries[i] = { size: c.size, sha256: PENDING_SHA256, mtimeMs: c.mtimeMs, etag: c.etag };
      deferred++;
      return false;
    });
  }
  const client = new ObjectSourceClient(listing.objects!.location, listing.objects!.settings);
  let hashedBytes = 0;
  try {
    let next = 0;
    const worker = async () => {
      while (next < toHash.length) {
        const i = toHash[next++];
        const c = candidates[i];
        const found = await hashObject(client, { rel: c.rel, size: c.size, mtimeMs: c.mtimeMs, etag: c.etag! });
        entries[i] = { size: c.size, sha256: found.sha256, mtimeMs: c.mtimeMs, etag: c.etag };
        if (found.parts) c.identity.hashed = found.parts;
        hashedBytes += c.size;
      }
    };
    await Promise.all(Array.from({ length: Math.min(OBJECT_HASH_CONCURRENCY, toHash.length) }, worker));
  } finally {
    client.close();
  }
  const manifest = emptyManifest();
  let bytes = 0;
  for (let i = 0; i < candidates.length; i++) {
    manifest[candidates[i].rel] = entries[i];
    bytes += entries[i].size;
  }
  return {
    root: listing.root,
    manifest,
    stats: { files: candidates.length, bytes, hashedFiles: toHash.length, hashedBytes, reusedFiles: candidates.length - toHash.length - deferred },
    unmatchedPatterns: listing.unmatchedPatterns,
  };
}

/**
 * What a preview of an object source shows without reading an object: the
 * entries the cache vouches for (same size and ETag), and for every other
 * object an entry whose sha256 is empty, which no recorded entry matches,
 * so a plan lists it as changed. Never recorded, never uploaded from.
 */
export function unreadManifest(listing: SourceListing, cache: Manifest | undefined): Manifest {
  const manifest = emptyManifest();
  for (const c of listing.files) {
    const cached = entryOf(cache, c.rel);
    manifest[c.rel] = reusable(cached, c) ? cached : { size: c.size, sha256: "", mtimeMs: c.mtimeMs, etag: c.etag };
  }
  return manifest;
}
