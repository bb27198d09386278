/**
 * The manifest: relative path -> size, SHA-256 and modification time. It is
 * what `check` puts into the inputs and what the state remembers, so it is
 * plain JSON (no undefined, no Date, no Map).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** A SHA-256 as lowercase hex, as every manifest entry holds it. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

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
