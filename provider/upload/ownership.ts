/**
 * Which objects a resource still owns, and moving ownership explicitly.
 *
 * Every object the engine writes carries its owner's token (object-
 * metadata.ts). A removal or a destroy deletes only objects still carrying
 * the resource's own token (or no mark at all: written by 0.1.0 or another
 * tool, as before); one another resource took over stays. Reading the mark
 * takes a HEAD, so a destroy of many files lists the path instead and HEADs
 * only the objects whose size or LastModified moved since the resource
 * wrote them (the manifest's stamp): an object nobody rewrote is still the
 * one this resource wrote.
 */
import { type ManifestEntry } from "./manifest";
import { type ObjectOwner, objectMetadata } from "./object-metadata";
import { headObject, listingPays, listObjects, type Listed, type ProbeRequests } from "./probe";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

/** What a removal may do with each of the objects it was asked to remove. */
export interface OwnedSplit {
  /** Still this resource's (or unmarked): to delete. */
  mine: string[];
  /** Owned by another resource: left in place. */
  foreign: { rel: string; urn: string }[];
  /** No object at the key any more. */
  gone: string[];
  requests: ProbeRequests;
}

/** True when the listing shows the object exactly as this resource stamped it. */
function unchangedSinceStamp(seen: Listed, entry: ManifestEntry | undefined): boolean {
  return entry?.stamp !== undefined && seen.lastModified === entry.stamp && seen.size === entry.size;
}

/**
 * Sorts `rels` into what this resource may delete and what another
 * resource owns now. `entry(rel)` gives the recorded manifest entry (with
 * its stamp) when there is one; `owner` is undefined for state written
 * before owners existed (then any marked object is another's).
 */
export async function splitOwned(
  session: StoreSession,
  run: { prefix: string; rels: readonly string[]; entry: (rel: string) => ManifestEntry | undefined; owner: ObjectOwner | undefined; pathObjects: number },
): Promise<OwnedSplit> {
  const requests: ProbeRequests = { list: 0, head: 0 };
  const split: OwnedSplit = { mine: [], foreign: [], gone: [], requests };
  const listed = listingPays(run.rels.length, run.pathObjects) ? await listObjects(session, run.prefix, requests) : undefined;
  await Promise.all(
    run.rels.map(async (rel) => {
      if (listed) {
        const seen = listed.get(rel);
        if (!seen) return void split.gone.push(rel);
        if (unchangedSinceStamp(seen, run.entry(rel))) return void split.mine.push(rel);
      }
      const head = await headObject(session, run.prefix + rel, rel, requests);
      if (!head) return void split.gone.push(rel);
      const token = head.owner.token;
      if (token === undefined || token === run.owner?.token) split.mine.push(rel);
      else split.foreign.push({ rel, urn: head.owner.urn ?? "an unknown resource" });
    }),
  );
  split.mine.sort();
  split.gone.sort();
  split.foreign.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return split;
}

/** One line about objects left in place because another resource owns them now. */
export function describeForeign(foreign: readonly { rel: string; urn: string }[], verb: string, shown = 5): string | undefined {
  if (foreign.length === 0) return undefined;
  const urns = [...new Set(foreign.map((f) => f.urn))];
  const rels = foreign.slice(0, shown).map((f) => f.rel).join(", ") + (foreign.length > shown ? `, and ${foreign.length - shown} more` : "");
  return `${verb} ${foreign.length.toLocaleString("en-US")} object(s) another resource took over (${urns.slice(0, 3).join(", ")}${urns.length > 3 ? ", ..." : ""}): ${rels}`;
}

/** S3 encodes each key segment per RFC 3986 in x-amz-copy-source. */
function copySource(bucket: string, key: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${enc(bucket)}/${key.split("/").map(enc).join("/")}`;
}

/**
 * Writes `owner`'s mark onto the object at `key` without moving its bytes
 * (CopyObject onto itself, metadata replaced), only if it still has the
 * ETag the HEAD saw. Returns the object's new LastModified (its stamp).
 */
export async function markOwned(session: StoreSession, key: string, rel: string, sha256: string, owner: ObjectOwner, etag?: string): Promise<number | undefined> {
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
        Metadata: { ...objectMetadata(sha256, owner) },
      }),
      { abortSignal: session.signal },
    ),
  );
  const at = res.CopyObjectResult?.LastModified?.getTime();
  return at !== undefined && Number.isFinite(at) ? at : undefined;
}
