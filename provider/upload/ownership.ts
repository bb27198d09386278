/**
 * Which objects a resource still owns, and moving ownership explicitly.
 *
 * Every object the engine writes carries its owners' tokens (object-
 * metadata.ts): a set, because two resources (two stacks on one path) may
 * hold the same content at one key. A removal or a destroy deletes only
 * objects whose set is the resource's own token alone (or no mark at all:
 * written by 0.1.0 or another tool, as before); from an object it shares it
 * removes only its token, and one another resource took over stays. Reading the mark
 * takes a HEAD, so a destroy of many files lists the path instead and HEADs
 * only the objects whose size or LastModified moved since the resource
 * wrote them (the manifest's stamp): an object nobody rewrote is still the
 * one this resource wrote.
 */
import { type ManifestEntry } from "./manifest";
import { ZillizValidationError } from "../errors";
import { MAX_OWNERS, markedMetadata, type ObjectOwner, type OwnerMark } from "./object-metadata";
import { headObject, listingPays, listPages, type Listed, type ProbeRequests } from "./probe";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

/** What a removal may do with each of the objects it was asked to remove. */
export interface OwnedSplit {
  /** Still this resource's (or unmarked): to delete. */
  mine: string[];
  /** Owned by another resource: left in place. */
  foreign: { rel: string; urn: string }[];
  /** Owned by this resource and others: left in place, this resource's token to be removed from the set. */
  shared: SharedObject[];
  /** No object at the key any more. */
  gone: string[];
  requests: ProbeRequests;
}

/** An object this resource owns together with others, and the owner set it keeps once this one lets go. */
export interface SharedObject {
  rel: string;
  sha256?: string;
  etag?: string;
  /** The set without this resource. */
  rest: OwnerMark;
}

/**
 * The owner set once `owner` joins `mark` (most recent first), dropping
 * `replacing` (this resource's own earlier token, seen through its URN).
 * Refuses past MAX_OWNERS: S3 metadata would not hold more.
 */
export function joinOwners(mark: OwnerMark, owner: ObjectOwner, rel: string, replacing?: string): OwnerMark {
  const tokens = [owner.token, ...mark.tokens.filter((t) => t !== owner.token && t !== replacing)];
  if (tokens.length > MAX_OWNERS) {
    throw new ZillizValidationError(
      "path",
      `${rel} is already shared by ${mark.tokens.length} resources with the same content, the most one object can record (its owner metadata is limited to 2 KB). ` +
        `Nothing was written. Give this resource a different \`path\`, or destroy one of the resources that share it.`,
    );
  }
  return { tokens, urn: owner.urn || undefined };
}

/** True when the listing shows the object exactly as this resource stamped it. */
function unchangedSinceStamp(seen: Listed, entry: ManifestEntry | undefined): boolean {
  return entry?.stamp !== undefined && seen.lastModified === entry.stamp && seen.size === entry.size;
}

/**
 * Sorts `rels` into what this resource may delete and what another
 * resource owns now. `entry(rel)` gives the recorded manifest entry (with
 * its stamp) when there is one; `owner` is undefined for state written
 * before owners existed (then any marked object is another's). When the
 * path is listed, `onMine` hears each page's objects that are still as this
 * resource stamped them as soon as that page arrives, so a destroy deletes
 * them while the next page is listed; they are in `mine` as well.
 */
export async function splitOwned(
  session: StoreSession,
  run: {
    prefix: string;
    rels: readonly string[];
    entry: (rel: string) => ManifestEntry | undefined;
    owner: ObjectOwner | undefined;
    pathObjects: number;
    onMine?: (rels: string[]) => void;
  },
): Promise<OwnedSplit> {
  const requests: ProbeRequests = { list: 0, head: 0 };
  const split: OwnedSplit = { mine: [], foreign: [], shared: [], gone: [], requests };
  let toHead: readonly string[] = run.rels;
  if (listingPays(run.rels.length, run.pathObjects)) {
    const unseen = new Set(run.rels);
    const moved: string[] = [];
    await listPages(
      session,
      run.prefix,
      (page) => {
        const mine: string[] = [];
        for (const [rel, seen] of page) {
          if (!unseen.delete(rel)) continue;
          if (unchangedSinceStamp(seen, run.entry(rel))) mine.push(rel);
          else moved.push(rel);
        }
        split.mine.push(...mine);
        if (mine.length > 0) run.onMine?.(mine);
      },
      requests,
    );
    split.gone.push(...unseen);
    toHead = moved;
  }
  await Promise.all(
    toHead.map(async (rel) => {
      const head = await headObject(session, run.prefix + rel, rel, requests);
      if (!head) return void split.gone.push(rel);
      const { tokens, urn } = head.owner;
      const me = run.owner?.token;
      if (tokens.length === 0 || (tokens.length === 1 && tokens[0] === me)) split.mine.push(rel);
      else if (me !== undefined && tokens.includes(me)) {
        // The URN is the most recent owner's: unknown once that one (us) goes.
        const rest = { tokens: tokens.filter((t) => t !== me), urn: tokens[0] === me ? undefined : urn };
        split.shared.push({ rel, sha256: head.sha256, etag: head.etag, rest });
      } else split.foreign.push({ rel, urn: urn ?? "an unknown resource" });
    }),
  );
  split.mine.sort();
  split.gone.sort();
  split.foreign.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  split.shared.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return split;
}

/** One line about objects left in place because another resource owns them now. */
export function describeForeign(foreign: readonly { rel: string; urn: string }[], verb: string, shown = 5): string | undefined {
  if (foreign.length === 0) return undefined;
  const urns = [...new Set(foreign.map((f) => f.urn))];
  const rels = foreign.slice(0, shown).map((f) => f.rel).join(", ") + (foreign.length > shown ? `, and ${foreign.length - shown} more` : "");
  return `${verb} ${foreign.length.toLocaleString("en-US")} object(s) another resource took over (${urns.slice(0, 3).join(", ")}${urns.length > 3 ? ", ..." : ""}): ${rels}`;
}

/** One line about shared objects left in place, this resource's token removed from their owner set. */
export function describeShared(shared: readonly SharedObject[], verb: string, shown = 5): string | undefined {
  if (shared.length === 0) return undefined;
  const rels = shared.slice(0, shown).map((s) => s.rel).join(", ") + (shared.length > shown ? `, and ${shared.length - shown} more` : "");
  return `${verb} ${shared.length.toLocaleString("en-US")} object(s) other resources also own (same content; they keep them, this resource no longer owns them): ${rels}`;
}

/** S3 encodes each key segment per RFC 3986 in x-amz-copy-source. */
function copySource(bucket: string, key: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${enc(bucket)}/${key.split("/").map(enc).join("/")}`;
}

/**
 * Writes the owner set `mark` onto the object at `key` without moving its
 * bytes (CopyObject onto itself, metadata replaced), only if it still has
 * the ETag the HEAD saw. Returns the object's new LastModified.
 */
export async function markOwned(session: StoreSession, key: string, rel: string, sha256: string | undefined, mark: OwnerMark, etag?: string): Promise<number | undefined> {
  const { CopyObjectCommand } = s3Sdk();
  const s3 = await session.s3();
  const Bucket = await session.bucket();
  const res = await session.send(`CopyObject ${rel} (owner mark)`, () =>
    s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: key,
        CopySource: copySource(Bucket, key),
        CopySourceIfMatch: etag,
        MetadataDirective: "REPLACE",
        Metadata: { ...markedMetadata(sha256, mark) },
      }),
      { abortSignal: session.signal },
    ),
  );
  const at = res.CopyObjectResult?.LastModified?.getTime();
  return at !== undefined && Number.isFinite(at) ? at : undefined;
}
