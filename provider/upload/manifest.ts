/**
 * The manifest: relative path -> size, SHA-256 and modification time. It is
 * what `check` puts into the inputs and what the state remembers, so it is
 * plain JSON (no undefined, no Date, no Map).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** A SHA-256 as lowercase hex, as every manifest entry holds it. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Every object we store carries its SHA-256 as user metadata under this
 * name, so that a run which finds an object its state does not know (after
 * the CLI was killed) can tell whether it is the file it was about to send.
 */
export const SHA256_METADATA = "sha256";
export const SHA256_METADATA_HEADER = `x-amz-meta-${SHA256_METADATA}`;

export const manifestEntrySchema = z.object({
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256_HEX),
  /** Only a cache key: two scans agree on content when size and sha256 agree. */
  mtimeMs: z.number(),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const manifestSchema = z.record(z.string(), manifestEntrySchema);
export type Manifest = z.infer<typeof manifestSchema>;

/** One SHA-256 over the sorted (path, size, sha256) triples; mtime does not count. */
export function manifestHash(manifest: Manifest | undefined): string {
  const hash = createHash("sha256");
  for (const rel of Object.keys(manifest ?? {}).sort()) {
    const e = manifest![rel];
    hash.update(`${rel}\0${e.size}\0${e.sha256}\n`);
  }
  return hash.digest("hex");
}
