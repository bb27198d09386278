/**
 * The last listing and manifest made of each source in this provider
 * process. One `pulumi up` calls check, diff and update on a resource in
 * turn; check walks the source (stat only), diff hashes what changed, and
 * update can then upload without walking or hashing again when the
 * listing it is given (the `sourceFingerprint` check put into the inputs)
 * is the one diff hashed. A file that changes after that is still safe:
 * the upload verifies every byte it sends against the planned SHA-256, and
 * the next run sees the new modification time.
 *
 * When diff finds changes, the recorded manifest it decoded from the state
 * (100,000 entries at 100,000 files) is kept with the hashed one: update,
 * given the same recorded manifest, takes it instead of decoding the state a
 * second time. Without changes no update follows, and nothing more is kept.
 */
import * as path from "node:path";
import type { Manifest, SourceListing } from "../upload";
import { isObjectSource } from "../upload/object-source";

export interface ScanKeyParts {
  source: string;
  include?: string[];
  exclude?: string[];
  followSymlinks?: string;
  sourceEndpoint?: string;
  sourcePathStyle?: boolean;
  sourceRegion?: string;
  /** A scan that re-read every file is not one that trusted a cache, and the other way round. */
  forceRehash?: boolean;
}

interface Entry {
  fingerprint: string;
  listing: SourceListing;
  /** Set once the listing was hashed. */
  manifest?: Manifest;
  /** The recorded manifest that hash trusted, decoded, and the state's form of it. */
  recorded?: Recorded;
}

/** A manifest as the state holds it (`stored`: an encoded string, or 0.1.0's object) and decoded. */
export interface Recorded {
  stored: unknown;
  manifest: Manifest;
}

/** Entries and files held at most; older entries go first. */
const MAX_ENTRIES = 256;
const MAX_FILES = 1_000_000;

export class RecentScans {
  private readonly entries = new Map<string, Entry>();
  private files = 0;

  /** What decides a scan: the source, the filters and whether the files are all read, not the stage or the path. */
  static key(parts: ScanKeyParts): string {
    const where = isObjectSource(parts.source) ? [parts.source, parts.sourceEndpoint ?? "", parts.sourcePathStyle ?? null, parts.sourceRegion ?? ""] : [path.resolve(parts.source)];
    return JSON.stringify([...where, parts.include ?? [], parts.exclude ?? [], parts.followSymlinks ?? "inside", parts.forceRehash === true]);
  }

  putListing(key: string, fingerprint: string, listing: SourceListing): void {
    this.remove(key);
    this.entries.set(key, { fingerprint, listing });
    this.files += listing.files.length;
    while (this.entries.size > MAX_ENTRIES || (this.files > MAX_FILES && this.entries.size > 1)) {
      this.remove(this.entries.keys().next().value as string);
    }
  }

  putManifest(key: string, fingerprint: string, manifest: Manifest): void {
    const entry = this.entries.get(key);
    if (entry?.fingerprint !== fingerprint) return;
    entry.manifest = manifest;
    entry.recorded = undefined;
  }

  /** Keeps the recorded manifest a hash of this listing was planned against (only beside a hashed manifest). */
  putRecorded(key: string, fingerprint: string | undefined, recorded: Recorded): void {
    const entry = this.entries.get(key);
    if (entry?.manifest && entry.fingerprint === fingerprint) entry.recorded = recorded;
  }

  /** The decoded manifest kept with this listing's hash, when the state's form of it is `stored` (the same string). */
  recordedManifest(key: string, fingerprint: string | undefined, stored: unknown): Manifest | undefined {
    const recorded = this.get(key, fingerprint)?.recorded;
    return recorded !== undefined && typeof stored === "string" && recorded.stored === stored ? recorded.manifest : undefined;
  }

  /** The entry for exactly this listing, or nothing. */
  get(key: string, fingerprint: string | undefined): { listing: SourceListing; manifest?: Manifest; recorded?: Recorded } | undefined {
    const entry = this.entries.get(key);
    return entry && entry.fingerprint === fingerprint ? entry : undefined;
  }

  remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.files -= entry.listing.files.length;
    this.entries.delete(key);
  }
}
