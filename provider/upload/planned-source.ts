/**
 * Where the bytes of a planned file come from, apart from how they travel:
 * a local file (opened as the listing saw it) or an object in another store
 * (read by ranges, pinned to the ETag the listing saw). The transfer
 * (execute.ts, multipart.ts) reads through this and checks every byte
 * against the planned entry, whatever the origin.
 */
import type * as fs from "node:fs";
import * as path from "node:path";
import { HashedParts, Identities, hasMoreThan, openPlanned, readFully } from "./local-file";
import type { ManifestEntry } from "./manifest";

/** One planned file, open for reading. */
export interface PlannedReader {
  /** Reads exactly `buf.length` bytes at `position`; fewer only at the end. */
  read(buf: Buffer, position: number): Promise<number>;
  /** True when there are bytes beyond `size` (the file grew since it was planned). */
  hasMoreThan(size: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface PlannedSource {
  /** Opens `rel`, or throws ZillizFileChangedError when it is no longer what `entry` planned. */
  open(rel: string, entry: ManifestEntry): Promise<PlannedReader>;
  /** What the scan computed of these bytes (SHA-256 and part CRC32s), if it kept it. */
  hashedParts(rel: string): HashedParts | undefined;
}

function fileReader(handle: fs.promises.FileHandle): PlannedReader {
  return {
    read: (buf, position) => readFully(handle, buf, position),
    hasMoreThan: (size) => hasMoreThan(handle, size),
    close: () => handle.close(),
  };
}

/** The files under `root`, each opened as the listing saw it (`identities`). */
export function localSource(root: string, identities?: Identities): PlannedSource {
  return {
    async open(rel, entry) {
      return fileReader(await openPlanned(path.join(root, rel), rel, entry, identities?.get(rel)));
    },
    hashedParts: (rel) => identities?.get(rel)?.hashed,
  };
}
