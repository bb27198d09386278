/**
 * `dataPaths` packed: how a TypeScript program hands a VolumeFiles' or
 * StagedFiles' `dataPaths` to an ImportJob. As a list of lists, 100,000
 * paths cost the program, the engine and the provider hundreds of MB to
 * serialize (one protobuf value per path and per batch), and the state a
 * few MB of input; packed, they are one string of a few hundred KB.
 *
 * `zp1:` + base64 of gzip of: the batch count, then per batch its path
 * count and its paths, each path front-coded against the one before it
 * (across batches), as the manifest codes its paths. The program loads
 * this module: only node's zlib and types from @pulumi/pulumi.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { Output } from "@pulumi/pulumi";
import { Reader, readPath, Writer, writePath } from "../upload/varint-codec";

const TAG = "zp1:";

export function packDataPaths(batches: readonly (readonly string[])[]): string {
  const w = new Writer();
  w.varint(batches.length);
  let prev = "";
  for (const batch of batches) {
    w.varint(batch.length);
    for (const p of batch) {
      writePath(w, prev, p);
      prev = p;
    }
  }
  return TAG + gzipSync(w.done(), { level: 6 }).toString("base64");
}

/**
 * packDataPaths of `count` batches of one path each, `pathAt(i)` the i-th:
 * what a files resource's `dataPaths` pack to, written without the list of
 * lists (at 100,000 files, that many arrays and strings the program would
 * only make to throw away).
 */
export function packOnePerBatch(count: number, pathAt: (i: number) => string): string {
  const w = new Writer();
  w.varint(count);
  let prev = "";
  for (let i = 0; i < count; i++) {
    const p = pathAt(i);
    w.varint(1);
    writePath(w, prev, p);
    prev = p;
  }
  return TAG + gzipSync(w.done(), { level: 6 }).toString("base64");
}

/** The batches again; an Error saying why for anything packDataPaths did not write. */
export function unpackDataPaths(packed: string): string[][] {
  const corrupt = (why: string) => new Error(`packed dataPaths cannot be decoded (${why}); pass dataPaths as a list of lists instead`);
  if (!packed.startsWith(TAG)) throw corrupt(`it does not start with "${TAG}"`);
  let raw: Buffer;
  try {
    raw = gunzipSync(Buffer.from(packed.slice(TAG.length), "base64"));
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  const r = new Reader(raw, corrupt);
  const batches: string[][] = new Array(r.varint());
  let prev = "";
  for (let i = 0; i < batches.length; i++) {
    const batch: string[] = (batches[i] = new Array(r.varint()));
    for (let j = 0; j < batch.length; j++) prev = batch[j] = readPath(r, prev, corrupt);
  }
  if (!r.done) throw corrupt("bytes follow the last path");
  return batches;
}

// A registered symbol: two copies of this package in one program still agree.
const PACKED = Symbol.for("pulumi-zilliz-stages/packed-data-paths");

/**
 * `dataPaths` that can also give itself packed: what a files resource's
 * `dataPaths` and `changedDataPaths` return. `packed` runs only when an
 * ImportJob asks for it.
 */
export function withPacked<T>(dataPaths: Output<T>, packed: () => Output<string>): Output<T> {
  Object.defineProperty(dataPaths, PACKED, { value: packed });
  return dataPaths;
}

/** The packed form of `dataPaths`, when it came straight from a files resource. */
export function packedOf(dataPaths: unknown): Output<string> | undefined {
  const packed = dataPaths !== null && typeof dataPaths === "object" ? (dataPaths as { [PACKED]?: () => Output<string> })[PACKED] : undefined;
  return packed?.();
}
