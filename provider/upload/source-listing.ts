/**
 * Listing a source: a file or a directory -> the wanted regular files with
 * their size, mtime and identity, without reading one (cheap enough for
 * every `check`; scan.ts hashes what a listing found). Walks iteratively (no
 * recursion depth), refuses special files before opening anything, follows
 * symlinks inside the source and detects loops; include/exclude globs
 * choose the files and report the patterns that matched nothing.
 */
import { createHash } from "node:crypto";
import { Dirent, promises as fs, lstatSync, readdirSync, Stats } from "node:fs";
import * as path from "node:path";
import { ZillizHashError, ZillizStoreError, ZillizValidationError } from "../errors";
import { GlobFilter } from "./glob-filter";
import { checkRelativePath } from "./keys";
import type { FileIdentity } from "./local-file";
import { mtimeMicros } from "./manifest";
import { isObjectSource, type ObjectLocation, ObjectSourceClient, type ObjectSourceSettings, parseObjectSource } from "./object-source";

/** Which files of the source are wanted, and how far symlinks are followed (and, for an object store, how to reach it). */
export interface ListOptions extends ObjectSourceSettings {
  /** Globs on the POSIX relative path (dotfiles included); default: everything. */
  include?: string[];
  /** Globs of files to leave out; wins over include. A pattern ending in "/**" also skips the directory's walk. */
  exclude?: string[];
  /** "inside" (default): symlinks must resolve inside the source; "any": follow them anywhere. */
  followSymlinks?: "inside" | "any";
}

interface Candidate {
  rel: string;
  size: number;
  mtimeMs: number;
  /**
   * The file seen: hashing and sending open exactly this one (see
   * local-file.ts). Never stored in the state. An object has no device or
   * inode (0): only what its hashing found is kept here.
   */
  identity: FileIdentity;
  /** An object's ETag (object sources only): with the size, what says it is unchanged. */
  etag?: string;
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

function specialFile(abs: string, stat: Stats): never {
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

function errnoCode(err: unknown): string | undefined {
  return err instanceof ZillizHashError ? err.errno : (err as NodeJS.ErrnoException)?.code;
}

export function unreadable(what: string, err: unknown): ZillizValidationError {
  return new ZillizValidationError(
    "source",
    `${what} cannot be read (${errnoCode(err) ?? (err as Error)?.message}); fix its permissions or leave it out with \`exclude\``,
    { cause: err },
  );
}

/** What a walk of the source found, before any file is read. */
export interface SourceListing {
  /** The directory the relative paths are relative to. */
  root: string;
  /** The wanted regular files with their size, mtime and identity, sorted by relative path. */
  files: Candidate[];
  /** Include/exclude patterns that matched no file. */
  unmatchedPatterns: string[];
  /** Set when the source is an object store: `root` is then its URL, and `files` its objects. */
  objects?: { location: ObjectLocation; settings: ObjectSourceSettings };
}

/** The settings of an object source among the list options, without the unset ones. */
function objectSettings(options: ListOptions): ObjectSourceSettings {
  const out: ObjectSourceSettings = {};
  if (options.sourceEndpoint !== undefined) out.sourceEndpoint = options.sourceEndpoint;
  if (options.sourcePathStyle !== undefined) out.sourcePathStyle = options.sourcePathStyle;
  if (options.sourceRegion !== undefined) out.sourceRegion = options.sourceRegion;
  return out;
}

/** Lists an object source: one ListObjectsV2 per 1,000 objects, nothing read. */
async function listObjects(source: string, options: ListOptions): Promise<SourceListing> {
  const location = parseObjectSource(source);
  const settings = objectSettings(options);
  const filter = new GlobFilter(options.include ?? [], options.exclude ?? []);
  const client = new ObjectSourceClient(location, settings);
  try {
    let listed;
    try {
      listed = await client.list(filter);
    } catch (err) {
      // The store's refusal (access, no such bucket) is a fault of the source input: said at check, on `source`.
      if (err instanceof ZillizStoreError) throw new ZillizValidationError("source", err.message, { cause: err });
      throw err;
    }
    return {
      root: client.url(""),
      files: listed.map((o) => ({ rel: o.rel, size: o.size, mtimeMs: o.mtimeMs, etag: o.etag, identity: { dev: 0, ino: 0 } })),
      unmatchedPatterns: filter.unmatched(),
      objects: { location, settings },
    };
  } finally {
    client.close();
  }
}

/**
 * Walks `source` and stats every wanted file without reading one: cheap
 * enough to run on every `check`, and the only input `hashListing` needs.
 */
export async function listSource(
  source: string,
  options: ListOptions = {},
): Promise<SourceListing> {
  if (isObjectSource(source)) return listObjects(source, options);
  if (options.sourceEndpoint !== undefined || options.sourcePathStyle !== undefined || options.sourceRegion !== undefined) {
    throw new ZillizValidationError("source", `sourceEndpoint, sourcePathStyle and sourceRegion apply to an s3:// or gs:// source, and ${source} is a local path; remove them or give source as s3://<bucket>/<prefix>/`);
  }
  const abs = path.resolve(source);
  let top: Stats;
  try {
    top = await fs.stat(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT") throw new ZillizValidationError("source", `${source} does not exist (resolved to ${abs}); check the path`);
    if (code === "ELOOP") throw new ZillizValidationError("source", `${source} is a symlink loop; point source at a real file or directory`);
    throw unreadable(source, err);
  }

  const filter = new GlobFilter(options.include ?? [], options.exclude ?? []);
  const candidates: Candidate[] = [];
  let root: string;
  if (!top.isDirectory()) {
    if (!top.isFile()) specialFile(abs, top);
    root = path.dirname(abs);
    const rel = path.basename(abs);
    if (filter.file(rel)) {
      checkRelativePath(rel);
      // `source` itself may be a link to the file: followed, wherever it leads, as always.
      const link = (await fs.lstat(abs)).isSymbolicLink() ? { link: {} } : {};
      candidates.push({ rel, size: top.size, mtimeMs: top.mtimeMs, identity: { dev: top.dev, ino: top.ino, ...link } });
    }
  } else {
    root = abs;
    await walk(root, filter, options.followSymlinks ?? "inside", candidates);
  }

  candidates.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { root, files: candidates, unmatchedPatterns: filter.unmatched() };
}

/** The identity of each listed file by relative path, for the upload's opens (UploadFiles.identities). */
export function identitiesOf(listing: SourceListing): Map<string, FileIdentity> {
  return new Map(listing.files.map((f) => [f.rel, f.identity]));
}

/**
 * One SHA-256 over the sorted (path, size, mtime) of a listing: it changes
 * whenever anything on disk that a scan would look at changes, and costs no
 * file read. mtime counts to the microsecond, as in the state.
 */
export function listingFingerprint(listing: SourceListing): string {
  const hash = createHash("sha256");
  if (listing.objects) hash.update(`${listing.root}\0${JSON.stringify(listing.objects.settings)}\n`);
  for (const f of listing.files) hash.update(`${f.rel}\0${f.size}\0${mtimeMicros(f.mtimeMs)}${f.etag === undefined ? "" : `\0${f.etag}`}\n`);
  return hash.digest("hex");
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
async function walk(root: string, filter: GlobFilter, follow: "inside" | "any", out: Candidate[]): Promise<void> {
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
