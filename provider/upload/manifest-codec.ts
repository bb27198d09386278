/**
 * The manifest as the state keeps it: one string of about 45 bytes a file
 * (4.3 MB at 100,000 files), where 0.1.0's JSON object took about 150 and
 * was stored twice.
 *
 * `zm1:` + base64 of: the byte length of the packed columns (4 bytes), the
 * columns gzipped, then the SHA-256 digests (32 raw bytes each, in path
 * order). The columns: the entry count; the sorted paths, each as (UTF-16
 * code units shared with the previous path, byte length of the rest, the
 * rest in UTF-8); the sizes; the modification times in whole microseconds:
 * the first one, then each as a signed difference from the previous one. Numbers are unsigned
 * LEB128 varints. The digests are random, cost 32 bytes whatever is done,
 * and so skip gzip; the other columns shrink to a few bytes a file.
 *
 * `zm2:` (written since objects carry an owner) is `zm1:` with one more
 * column after the modification times: each entry's stamp (the store's
 * LastModified in ms, see manifest.ts) as 0 when it has none, else 1 + the
 * zigzagged difference from the previous stamp given. Stamps of one run lie
 * within milliseconds of each other, so the column costs about a byte a
 * file. Both forms are read.
 *
 * A manifest of files copied from an object store ends with one more column:
 * each entry's source ETag as a UTF-8 string (empty for none). It is written
 * only when some entry has one, so a local source's state is as before.
 *
 * The program loads this module too (to derive `files` and `dataPaths`),
 * so it depends on nothing but node's zlib.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { type Manifest, type ManifestEntry, mtimeMicros } from "./manifest";
import { Reader, readPath, unzigzag, Writer, writePath, zigzag } from "./varint-codec";

const TAG_V1 = "zm1:";
const TAG = "zm2:";

function corrupt(why: string): Error {
  return new Error(
    `the files manifest in the state cannot be decoded (${why}); ` +
      "run `pulumi refresh` and then `pulumi up` with `forceRehash: true` to rebuild it",
  );
}

/** Encodes a manifest for the state. Entries are written in sorted path order. */
export function encodeManifest(manifest: Manifest): string {
  const rels = Object.keys(manifest).sort();
  const entries = rels.map((rel) => manifest[rel]);
  const w = new Writer();
  w.varint(rels.length);
  let prev = "";
  for (const rel of rels) {
    writePath(w, prev, rel);
    prev = rel;
  }
  for (const e of entries) w.varint(e.size);
  // The first time as sign and magnitude, then signed differences: exact
  // while the times lie within 142 years of each other (2^52 µs).
  let last = entries.length > 0 ? mtimeMicros(entries[0].mtimeMs) : 0;
  w.varint(last < 0 ? 1 : 0);
  w.varint(Math.abs(last));
  for (const e of entries) {
    const us = mtimeMicros(e.mtimeMs);
    w.varint(zigzag(us - last));
    last = us;
  }
  let lastStamp = 0;
  for (const e of entries) {
    if (e.stamp === undefined || !Number.isSafeInteger(e.stamp)) {
      w.varint(0);
      continue;
    }
    w.varint(zigzag(e.stamp - lastStamp) + 1);
    lastStamp = e.stamp;
  }
  if (entries.some((e) => e.etag !== undefined)) for (const e of entries) w.utf8(e.etag ?? "");
  // The digests do not compress: they go after the compressed columns as they are.
  const packed = gzipSync(w.done(), { level: 6 });
  const out = Buffer.allocUnsafe(4 + packed.length + 32 * entries.length);
  out.writeUInt32BE(packed.length, 0);
  packed.copy(out, 4);
  let at = 4 + packed.length;
  for (const e of entries) {
    if (out.write(e.sha256, at, 32, "hex") !== 32 || e.sha256.length !== 64) throw new Error(`not a SHA-256: ${JSON.stringify(e.sha256)}`);
    at += 32;
  }
  return TAG + out.toString("base64");
}

/** The raw columns, or a clear error. */
function columns(encoded: string): { count: number; rels: string[]; r: Reader; digests: Buffer; stamped: boolean } {
  const stamped = encoded.startsWith(TAG);
  if (!stamped && !encoded.startsWith(TAG_V1)) throw corrupt(`it does not start with "${TAG}" or "${TAG_V1}"`);
  const all = Buffer.from(encoded.slice(TAG.length), "base64");
  if (all.length < 4 || all.readUInt32BE(0) > all.length - 4) throw corrupt("it is truncated");
  const packedEnd = 4 + all.readUInt32BE(0);
  let raw: Buffer;
  try {
    raw = gunzipSync(all.subarray(4, packedEnd));
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  const r = new Reader(raw, corrupt);
  const count = r.varint();
  const digests = all.subarray(packedEnd);
  if (digests.length !== 32 * count) throw corrupt(`it holds ${digests.length / 32} digests for ${count} files`);
  const rels: string[] = new Array(count);
  let prev = "";
  for (let i = 0; i < count; i++) prev = rels[i] = readPath(r, prev, corrupt);
  return { count, rels, r, digests, stamped };
}

/**
 * The manifest from the state: the encoded string this version writes, or
 * the plain object 0.1.0 wrote. Anything else (absent, unknown) is empty.
 */
export function decodeManifest(stored: unknown): Manifest {
  // No prototype: a file may be called `__proto__` or `constructor`.
  const manifest: Manifest = Object.create(null);
  if (stored !== null && typeof stored === "object" && !Array.isArray(stored)) {
    const plain = stored as Record<string, ManifestEntry>;
    for (const rel of Object.keys(plain)) manifest[rel] = plain[rel];
    return manifest;
  }
  if (typeof stored !== "string" || stored === "") return manifest;
  const { count, rels, r, digests, stamped } = columns(stored);
  const sizes = new Array<number>(count);
  for (let i = 0; i < count; i++) sizes[i] = r.varint();
  const mtimes = new Array<number>(count);
  const negative = r.varint() === 1;
  let last = r.varint() * (negative ? -1 : 1);
  for (let i = 0; i < count; i++) {
    last += unzigzag(r.varint());
    mtimes[i] = last / 1000;
  }
  const stamps = new Array<number | undefined>(count);
  let lastStamp = 0;
  for (let i = 0; stamped && i < count; i++) {
    const v = r.varint();
    if (v === 0) continue;
    lastStamp += unzigzag(v - 1);
    stamps[i] = lastStamp;
  }
  const etags = stamped && !r.done ? Array.from({ length: count }, () => r.utf8()) : undefined;
  for (let i = 0; i < count; i++) {
    const entry: ManifestEntry = { size: sizes[i], sha256: digests.toString("hex", 32 * i, 32 * i + 32), mtimeMs: mtimes[i] };
    if (stamps[i] !== undefined) entry.stamp = stamps[i];
    if (etags && etags[i] !== "") entry.etag = etags[i];
    manifest[rels[i]] = entry;
  }
  return manifest;
}

/** Only the relative paths, sorted: what the program needs for `files` and `dataPaths`. */
export function manifestPaths(stored: unknown): string[] {
  if (stored !== null && typeof stored === "object" && !Array.isArray(stored)) return Object.keys(stored).sort();
  if (typeof stored !== "string" || stored === "") return [];
  return columns(stored).rels;
}
