/**
 * Reading the files a plan names: opened read-only and non-blocking, checked
 * against the manifest entry they were planned from.
 */
import { constants as fsConstants, promises as fs, readlinkSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { ZillizFileChangedError } from "../errors";
import type { ManifestEntry } from "./manifest";

/** Which file a listing saw at each relative path (a Map will do). */
export interface Identities {
  get(rel: string): FileIdentity | undefined;
}

/**
 * Read-only, and non-blocking so that a file swapped for a FIFO after the
 * scan looked at it cannot hang the open; regular files ignore the flag.
 */
export const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/**
 * Which file a listing saw at a relative path. Kept in memory only (the
 * listing, recent-scans.ts), never in the state: device and inode numbers
 * mean nothing on another machine or after a restore.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  /**
   * Set when the listing reached the file through a symlink: the open must
   * follow it, and under followSymlinks "inside" the file it lands on must
   * still be inside `within` (the source's real path).
   */
  link?: { within?: string };
  /**
   * What the scan read of a large file (hash.ts): kept in memory with the
   * listing for its upload, which can then send the bytes without hashing
   * them again (multipart.ts).
   */
  hashed?: HashedParts;
}

/**
 * The SHA-256 and size the scan computed for a file, and the CRC32 of each
 * `partSize` bytes of those same bytes, read in the same pass. An upload
 * sends each part with the scan's CRC32, so the store refuses any part
 * whose bytes are not the ones hashed: a file changed since, by any means
 * (a write through a memory map moves no timestamp), is refused, not
 * stored under the old digest.
 */
export interface HashedParts {
  sha256: string;
  size: number;
  partSize: number;
  /** One per part, in order (unsigned 32-bit values). */
  crc32: number[];
}

/**
 * A file the listing saw as a regular file is opened without following a
 * link, so one swapped for a symlink after the listing fails to open (ELOOP)
 * instead of reading whatever the link points at.
 */
export function openFlagsFor(identity: FileIdentity | undefined): number {
  return identity && !identity.link ? OPEN_FLAGS | (fsConstants.O_NOFOLLOW ?? 0) : OPEN_FLAGS;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The path the kernel opened for `fd`: /proc names the very file behind the
 * descriptor, so nothing can be swapped between the check and the read. Where
 * there is no /proc, the real path of `file` right after the open.
 */
function openedPath(fd: number, file: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return realpathSync(file);
  }
}

/**
 * Why the opened file is not the one the listing saw, or undefined when it
 * is. The worker in hash.ts repeats this rule in its own source text.
 */
export function identityProblem(fd: number, file: string, st: { dev: number; ino: number }, identity: FileIdentity | undefined): string | undefined {
  if (!identity) return undefined;
  if (st.dev !== identity.dev || st.ino !== identity.ino) return "another file than the one listed (it was replaced)";
  const within = identity.link?.within;
  if (within !== undefined) {
    const real = openedPath(fd, file);
    if (!isInside(real, within)) return `a symlink to ${real}, outside the source`;
  }
  return undefined;
}

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

/**
 * Opens a file the plan expects to be a regular file of `entry.size` bytes
 * (and, given the listing's `identity`, the very file listed), or says it
 * changed.
 */
export async function openPlanned(file: string, rel: string, entry: ManifestEntry, identity?: FileIdentity): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, openFlagsFor(identity));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ZillizFileChangedError(rel, entry, "no file");
    // O_NOFOLLOW met a symlink where the listing saw a regular file.
    if (code === "ELOOP") throw new ZillizFileChangedError(rel, entry, "a symlink where a regular file was listed; it was not followed");
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ZillizFileChangedError(rel, entry, "not a regular file");
    const problem = identityProblem(handle.fd, file, st, identity);
    if (problem) throw new ZillizFileChangedError(rel, entry, problem);
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
