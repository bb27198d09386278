/**
 * Reading the files a plan names: opened read-only and non-blocking, checked
 * against the manifest entry they were planned from.
 */
import { constants as fsConstants, promises as fs } from "node:fs";
import { ZillizFileChangedError } from "../errors";
import type { ManifestEntry } from "./manifest";

/**
 * Read-only, and non-blocking so that a file swapped for a FIFO after the
 * scan looked at it cannot hang the open; regular files ignore the flag.
 */
export const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** Reads exactly `buf.length` bytes at `position`; fewer only at end of file. */
export async function readFully(handle: fs.FileHandle, buf: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await handle.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Opens a file the plan expects to be a regular file of `entry.size` bytes, or says it changed. */
export async function openPlanned(file: string, rel: string, entry: ManifestEntry): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, OPEN_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new ZillizFileChangedError(rel, entry, "no file");
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ZillizFileChangedError(rel, entry, "not a regular file");
    if (st.size !== entry.size) throw new ZillizFileChangedError(rel, entry, `${st.size} bytes`);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** True when the file has bytes beyond `size` (it grew after the stat). */
export async function hasMoreThan(handle: fs.FileHandle, size: number): Promise<boolean> {
  const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size);
  return bytesRead > 0;
}
