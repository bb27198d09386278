/**
 * Listing a source: a file, a directory (walked by directory-walk.ts) or an
 * object store prefix (object-source.ts) -> the wanted files with their
 * size, mtime and identity, without reading one (cheap enough for every
 * `check`; scan.ts hashes what a listing found); include/exclude globs
 * choose the files and report the patterns that matched nothing.
 */
import { createHash } from "node:crypto";
import { promises as fs, Stats } from "node:fs";
import * as path from "node:path";
import { ZillizStoreError, ZillizValidationError } from "../errors";
import { errnoCode, specialFile, unreadable, walk } from "./directory-walk";
import { GlobFilter } from "./glob-filter";
import { checkRelativePath } from "./keys";
import type { FileIdentity, Identities } from "./local-file";
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

/**
 * The identity of each listed file by relative path, for the upload's opens:
 * a binary search of the sorted listing, not a map of every file, which an
 * update of ten files in a tree of 100,000 would build for nothing.
 */
export function identitiesOf(listing: SourceListing): Identities {
  const files = listing.files;
  return {
    get(rel) {
      let lo = 0;
      let hi = files.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const at = files[mid].rel;
        if (at === rel) return files[mid].identity;
        if (at < rel) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    },
  };
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

// scan.ts refuses an unreadable file with the same words as the walk.
export { unreadable } from "./directory-walk";
