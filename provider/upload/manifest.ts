/**
 * The manifest: relative path -> size, SHA-256, modification time and (once
 * written) the store's LastModified of the object. It is what the state
 * remembers, so entries are plain JSON (no undefined, no Date).
 *
 * Manifests are keyed by file names, which may be anything JavaScript
 * treats specially (`__proto__`, `constructor`): every manifest is an
 * object without a prototype, read with `Object.hasOwn`, never `in`.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export { SHA256_METADATA } from "./object-metadata";

/** A SHA-256 as lowercase hex, as every manifest entry holds it. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The digest of a planned entry not read yet: an object from an object
 * source, copied to a key nothing occupies, is hashed as it is sent
 * (execute.ts and multipart.ts fill it in), which saves reading it twice. It
 * matches no object's digest (probe.ts reads only hex digests), so nothing
 * is ever adopted or joined on its strength, and a manifest still holding
 * it cannot be encoded for the state.
 */
export const PENDING_SHA256 = "";

/**
 * The largest object hashed as it is sent: a multipart upload gets its
 * digest afterwards by a CopyObject onto itself, which S3 limits to 5 GiB.
 * Larger ones are hashed before they are sent.
 */
export const MAX_PENDING_BYTES = 5 * 1024 ** 3;

export const manifestEntrySchema = z.object({
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256_HEX),
  /** Only a cache key: two scans agree on content when size and sha256 agree. */
  mtimeMs: z.number(),
  /**
   * The store's LastModified (ms) seen right after this resource wrote or
   * marked the object: while the store still shows it, the object is the
   * one this resource wrote, and a removal needs no HEAD to know its owner.
   */
  stamp: z.number().optional(),
  /**
   * For a file copied from an object store (object-source.ts): the source
   * object's ETag when it was read. With the size, what says the source
   * object is unchanged without reading it, as mtime does for a local file.
   */
  etag: z.string().optional(),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

/**
 * A modification time (ms) as the whole microseconds the state keeps
 * (manifest-codec.ts): what two times are compared by, so that state
 * written with full double precision still matches a fresh stat.
 */
export function mtimeMicros(mtimeMs: number): number {
  return Math.round(mtimeMs * 1000);
}

export const manifestSchema = z.record(z.string(), manifestEntrySchema);
export type Manifest = z.infer<typeof manifestSchema>;

/** An empty manifest without a prototype. */
export function emptyManifest(): Manifest {
  return Object.create(null) as Manifest;
}

/** A prototype-free copy of `source` (a plain object from JSON, zod or 0.1.0 state). */
export function toManifest(source: Readonly<Record<string, ManifestEntry>> | undefined): Manifest {
  const out = emptyManifest();
  if (source) for (const rel of Object.keys(source)) out[rel] = source[rel];
  return out;
}

/** The entry of `rel`, never an inherited member (`constructor`, `__proto__`). */
export function entryOf(manifest: Readonly<Manifest> | undefined, rel: string): ManifestEntry | undefined {
  return manifest !== undefined && Object.hasOwn(manifest, rel) ? manifest[rel] : undefined;
}

/**
 * One SHA-256 over the sorted (path, size, sha256) triples, each as
 * `path\0size\0sha256\n` in UTF-8; mtime and stamps do not count. The lines
 * go through one buffer rather than a string each: it runs as the provider
 * answers with 100,000 entries, at its memory peak.
 */
export function manifestHash(manifest: Manifest | undefined): string {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(64 * 1024);
  let at = 0;
  for (const rel of Object.keys(manifest ?? {}).sort()) {
    const e = manifest![rel];
    const size = String(e.size);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = 3 * (rel.length + e.sha256.length) + size.length + 3;
    if (at + most > buf.length) {
      hash.update(buf.subarray(0, at));
      at = 0;
    }
    if (most > buf.length) {
      hash.update(`${rel}\0${size}\0${e.sha256}\n`);
      continue;
    }
    at += buf.write(rel, at, "utf8");
    buf[at++] = 0;
    at += buf.write(size, at, "latin1");
    buf[at++] = 0;
    at += buf.write(e.sha256, at, "utf8");
    buf[at++] = 0x0a;
  }
  hash.update(buf.subarray(0, at));
  return hash.digest("hex");
}
