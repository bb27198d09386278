/**
 * Scan: a file or a directory -> a manifest of relative path -> size,
 * SHA-256, mtime. Walks iteratively (no recursion depth, no file contents
 * held), refuses special files before opening anything, follows symlinks
 * inside the source and detects loops.
 */
import { createHash } from "node:crypto";
import { Dirent, promises as fs, lstatSync, readdirSync, Stats } from "node:fs";
import * as path from "node:path";
import picomatch from "picomatch";
import { ZillizHashError, ZillizValidationError } from "../errors";
import { hashFiles } from "./hash";
import { checkRelativePath } from "./keys";
import type { FileIdentity } from "./local-file";
import { emptyManifest, entryOf, Manifest, ManifestEntry, mtimeMicros, SHA256_HEX } from "./manifest";

export interface ScanOptions {
  /** Globs on the POSIX relative path (dotfiles included); default: everything. */
  include?: string[];
  /** Globs of files to leave out; wins over include. A pattern ending in "/**" also skips the directory's walk. */
  exclude?: string[];
  /** The previous manifest: a file whose size and mtime match its entry is not read again. */
  cache?: Manifest;
  /** Ignore the cache and read every file. */
  forceRehash?: boolean;
  /** "inside" (default): symlinks must resolve inside the source; "any": follow them anywhere. */
  followSymlinks?: "inside" | "any";
  /** Hashing threads; default: every core. */
  hashConcurrency?: number;
}

export interface ScanResult {
  /** The directory the manifest's paths are relative to. */
  root: string;
  /** Sorted by relative path. */
  manifest: Manifest;
  stats: { files: number; bytes: number; hashedFiles: number; hashedBytes: number; reusedFiles: number };
  /** Include/exclude patterns that matched no file (usually a typo: worth a warning). */
  unmatchedPatterns: string[];
}

interface Candidate {
  rel: string;
  size: number;
  mtimeMs: number;
  /** The file seen: hashing and sending open exactly this one (see local-file.ts). Never stored in the state. */
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

function unreadable(what: string, err: unknown): ZillizValidationError {
  return new ZillizValidationError(
    "source",
    `${what} cannot be read (${errnoCode(err) ?? (err as Error)?.message}); fix its permissions or leave it out with \`exclude\``,
    { cause: err },
  );
}

/** Modification times compare to the microsecond, as the state keeps them. */
export function sameMtime(a: number, b: number): boolean {
  return mtimeMicros(a) === mtimeMicros(b);
}

/** A cache entry is only trusted if it looks like one (state can be old or hand-edited). */
function reusable(cached: ManifestEntry | undefined, c: Candidate): cached is ManifestEntry {
  return (
    cached !== undefined &&
    cached.size === c.size &&
    sameMtime(cached.mtimeMs, c.mtimeMs) &&
    typeof cached.sha256 === "string" &&
    SHA256_HEX.test(cached.sha256)
  );
}

/** Include/exclude, counting which pattern matched something. */
class Filter {
  private readonly include: picomatch.Matcher[];
  private readonly exclude: picomatch.Matcher[];
  /** For exclude patterns of the form "dir/**": matches the directory itself, so its walk is skipped. */
  private readonly excludeDirs: (picomatch.Matcher | undefined)[];
  private readonly hits: boolean[];

  constructor(
    private readonly includePatterns: string[],
    private readonly excludePatterns: string[],
  ) {
    const compile = (field: string) => (p: string) => {
      try {
        return picomatch(p, { dot: true });
      } catch (err) {
        throw new ZillizValidationError(field, `${JSON.stringify(p)} is not a valid glob (${(err as Error).message})`);
      }
    };
    this.include = includePatterns.map(compile("include"));
    this.exclude = excludePatterns.map(compile("exclude"));
    this.excludeDirs = excludePatterns.map((p) => (p.endsWith("/**") && p.length > 3 ? compile("exclude")(p.slice(0, -3)) : undefined));
    this.hits = new Array(includePatterns.length + excludePatterns.length).fill(false);
  }

  /** Is this file wanted? */
  file(rel: string): boolean {
    let included = this.include.length === 0;
    let excluded = false;
    for (let i = 0; i < this.include.length; i++) {
      if (this.include[i](rel)) this.hits[i] = included = true;
    }
    for (let i = 0; i < this.exclude.length; i++) {
      if (this.exclude[i](rel)) this.hits[this.include.length + i] = excluded = true;
    }
    return included && !excluded;
  }

  /** Is this whole directory excluded (so it need not be walked)? */
  skipsDirectory(rel: string): boolean {
    for (let i = 0; i < this.excludeDirs.length; i++) {
      if (this.excludeDirs[i]?.(rel)) {
        this.hits[this.include.length + i] = true;
        return true;
      }
    }
    return false;
  }

  unmatched(): string[] {
    return [...this.includePatterns, ...this.excludePatterns].filter((_, i) => !this.hits[i]);
  }
}

/**
 * Scans `source` (a file or a directory) into a manifest. Files are hashed
 * on worker threads unless the cache vouches for them; special files,
 * symlink loops and (by default) symlinks leading outside the source are
 * refused with a message naming the path and the way out.
 */
export async function scanSource(source: string, options: ScanOptions = {}): Promise<ScanResult> {
  return hashListing(await listSource(source, options), options);
}

/** What a walk of the source found, before any file is read. */
export interface SourceListing {
  /** The directory the relative paths are relative to. */
  root: string;
  /** The wanted regular files with their size, mtime and identity, sorted by relative path. */
  files: Candidate[];
  /** Include/exclude patterns that matched no file. */
  unmatchedPatterns: string[];
}

/**
 * Walks `source` and stats every wanted file without reading one: cheap
 * enough to run on every `check`, and the only input `hashListing` needs.
 */
export async function listSource(
  source: string,
  options: Pick<ScanOptions, "include" | "exclude" | "followSymlinks"> = {},
): Promise<SourceListing> {
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

  const filter = new Filter(options.include ?? [], options.exclude ?? []);
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
  for (const f of listing.files) hash.update(`${f.rel}\0${f.size}\0${mtimeMicros(f.mtimeMs)}\n`);
  return hash.digest("hex");
}

/** Turns a listing into a manifest, reading only the files the cache cannot vouch for. */
export async function hashListing(listing: SourceListing, options: Pick<ScanOptions, "cache" | "forceRehash" | "hashConcurrency"> = {}): Promise<ScanResult> {
  const { root, files: candidates } = listing;
  const cache = options.forceRehash ? undefined : options.cache;
  const toHash: Candidate[] = [];
  for (const c of candidates) if (!reusable(entryOf(cache, c.rel), c)) toHash.push(c);

  let hashed;
  try {
    hashed = await hashFiles(
      toHash.map((c) => ({ path: path.join(root, c.rel), size: c.size, identity: c.identity })),
      options.hashConcurrency,
    );
  } catch (err) {
    if (err instanceof ZillizHashError) {
      if (err.errno === "ENOTREG") {
        throw new ZillizValidationError("source", `${err.path} is not a regular file (it changed during the scan); only regular files can be uploaded`);
      }
      if (err.errno === "ELOOP" || err.errno === "ECHANGED") {
        const found = err.errno === "ELOOP" ? "a symlink where a regular file was listed (not followed)" : err.message.slice(err.path.length + 2);
        throw new ZillizValidationError(
          "source",
          `${err.path} changed after the source was listed: it is now ${found}; nothing was read from it. Run again, or leave it out with \`exclude\``,
          { cause: err },
        );
      }
      throw unreadable(err.path, err);
    }
    throw err;
  }

  // Cache hits and fresh hashes interleave; both come out in sorted order.
  const manifest = emptyManifest();
  let bytes = 0;
  let hashedBytes = 0;
  for (let i = 0, h = 0; i < candidates.length; i++) {
    const c = candidates[i];
    let entry: ManifestEntry;
    if (h < toHash.length && toHash[h] === c) {
      // The size read is the truth; mtime is from the stat before the read, so
      // a file changed meanwhile is read again next time rather than trusted.
      entry = { size: hashed[h].size, sha256: hashed[h].sha256, mtimeMs: c.mtimeMs };
      hashedBytes += hashed[h].size;
      h++;
    } else {
      const cached = entryOf(cache, c.rel)!;
      entry = { size: cached.size, sha256: cached.sha256, mtimeMs: cached.mtimeMs };
    }
    manifest[c.rel] = entry;
    bytes += entry.size;
  }
  return {
    root,
    manifest,
    stats: { files: candidates.length, bytes, hashedFiles: toHash.length, hashedBytes, reusedFiles: candidates.length - toHash.length },
    unmatchedPatterns: listing.unmatchedPatterns,
  };
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
async function walk(root: string, filter: Filter, follow: "inside" | "any", out: Candidate[]): Promise<void> {
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
