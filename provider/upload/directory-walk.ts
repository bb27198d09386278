/**
 * Walking a local directory source: depth-first without recursion (no depth
 * limit), special files refused before anything is opened, symlinks followed
 * inside the source (or anywhere, when asked) with loops detected, and the
 * refusals that name the file and the fix. source-listing.ts lists with it.
 */
import { Dirent, promises as fs, lstatSync, readdirSync, Stats } from "node:fs";
import * as path from "node:path";
import { ZillizHashError, ZillizValidationError } from "../errors";
import type { GlobFilter } from "./glob-filter";
import { checkRelativePath } from "./keys";
import type { FileIdentity } from "./local-file";

/** A regular file the walk found: its path below the root, size, mtime, and the file seen (local-file.ts). */
export interface WalkedFile {
  rel: string;
  size: number;
  mtimeMs: number;
  identity: FileIdentity;
}

/** The real paths of the directories from the root down to here: a link back into one of them is a loop. */
interface Ancestry {
  real: string;
  parent?: Ancestry;
}

function hasAncestor(chain: Ancestry, real: string): boolean {
  for (let a: Ancestry | undefined = chain; a; a = a.parent) if (a.real === real) return true;
  return false;
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isCharacterDevice()) return "a character device";
  return "not a regular file";
}

export function specialFile(abs: string, stat: Stats): never {
  const kind = kindOf(stat);
  throw new ZillizValidationError(
    "source",
    `${abs} is ${kind}; only regular files can be uploaded. Remove it or leave it out with \`exclude\`.`,
  );
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export function errnoCode(err: unknown): string | undefined {
  return err instanceof ZillizHashError ? err.errno : (err as NodeJS.ErrnoException)?.code;
}

/** The refusal of a file or directory of the source that cannot be read. */
export function unreadable(what: string, err: unknown): ZillizValidationError {
  return new ZillizValidationError(
    "source",
    `${what} cannot be read (${errnoCode(err) ?? (err as Error)?.message}); fix its permissions or leave it out with \`exclude\``,
    { cause: err },
  );
}

/** Synchronous stats between two turns of the event loop. */
const YIELD_EVERY = 512;

type EntryKind = "file" | "directory" | "symlink" | "other";

function kindOfEntry(entry: Dirent, abs: string): EntryKind {
  if (entry.isFile()) return "file";
  if (entry.isDirectory()) return "directory";
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return "other";
  // Some filesystems do not report entry types in readdir: ask.
  const st = lstatSync(abs);
  return st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "other";
}

/** Walks `root` depth-first without recursion, appending the wanted regular files to `out`. */
export async function walk(root: string, filter: GlobFilter, follow: "inside" | "any", out: WalkedFile[]): Promise<void> {
  const realRoot = await fs.realpath(root);
  let sinceYield = 0;
  const stack: { abs: string; rel: string; ancestry: Ancestry }[] = [{ abs: root, rel: "", ancestry: { real: realRoot } }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    // Synchronous on purpose, like the stats below: a cached scan is nothing
    // but directory reads and stats, and each async call costs a trip through
    // the thread pool. The periodic yield keeps the event loop responsive.
    let entries: Dirent[];
    try {
      entries = readdirSync(dir.abs, { withFileTypes: true });
    } catch (err) {
      throw unreadable(`the directory ${dir.abs}`, err);
    }
    for (const entry of entries) {
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // dir.abs is already normal: plain concatenation spares path.join a normalisation per entry.
      const abs = dir.abs + path.sep + entry.name;
      const rel = dir.rel ? `${dir.rel}/${entry.name}` : entry.name;
      let kind: EntryKind;
      try {
        kind = kindOfEntry(entry, abs);
      } catch (err) {
        if (errnoCode(err) === "ENOENT") continue; // removed while we looked: as if scanned a moment later
        throw unreadable(abs, err);
      }

      if (kind === "directory") {
        if (!filter.skipsDirectory(rel)) {
          stack.push({ abs, rel, ancestry: { real: path.join(dir.ancestry.real, entry.name), parent: dir.ancestry } });
        }
        continue;
      }

      if (kind === "file" || kind === "other") {
        if (!filter.file(rel)) continue;
        let st: Stats;
        try {
          st = lstatSync(abs);
        } catch (err) {
          if (errnoCode(err) === "ENOENT") continue;
          throw unreadable(abs, err);
        }
        if (!st.isFile()) specialFile(abs, st);
        checkRelativePath(rel);
        out.push({ rel, size: st.size, mtimeMs: st.mtimeMs, identity: { dev: st.dev, ino: st.ino } });
        continue;
      }

      // A symlink: followed, within limits.
      let real: string;
      let st: Stats;
      try {
        real = await fs.realpath(abs);
        st = await fs.stat(real);
      } catch (err) {
        // A broken link nobody asked for is no reason to fail.
        if (!filter.file(rel) || filter.skipsDirectory(rel)) continue;
        const code = errnoCode(err);
        if (code === "ELOOP") throw new ZillizValidationError("source", `${abs} is a symlink loop; remove it or leave it out with \`exclude\``);
        if (code === "ENOENT") throw new ZillizValidationError("source", `${abs} is a symlink to nothing; remove it or leave it out with \`exclude\``);
        throw unreadable(abs, err);
      }
      const outside = follow !== "any" && !isInside(real, realRoot);
      const outsideError = () =>
        new ZillizValidationError(
          "source",
          `${abs} is a symlink to ${real}, outside the source; set followSymlinks: "any" to upload it anyway, or leave it out with \`exclude\``,
        );
      if (st.isDirectory()) {
        if (filter.skipsDirectory(rel)) continue;
        if (outside) throw outsideError();
        if (hasAncestor(dir.ancestry, real)) {
          throw new ZillizValidationError(
            "source",
            `${abs} is a symlink loop (it leads back to ${real}); remove it or leave it out with \`exclude: ["${rel}/**"]\``,
          );
        }
        stack.push({ abs, rel, ancestry: { real, parent: dir.ancestry } });
        continue;
      }
      if (!filter.file(rel)) continue;
      if (outside) throw outsideError();
      if (!st.isFile()) specialFile(abs, st);
      checkRelativePath(rel);
      out.push({ rel, size: st.size, mtimeMs: st.mtimeMs, identity: { dev: st.dev, ino: st.ino, link: { within: follow === "any" ? undefined : realRoot } } });
    }
  }
}
