/**
 * Looking at what the store holds under a path, the two ways S3 offers:
 * one listing (1000 keys a page, sizes and LastModified, no metadata) or
 * one HEAD per key (metadata: SHA-256 and owner). Which one pays is one
 * rule, shared by recovery, removals, stamping and refresh.
 */
import { ZillizStoreError } from "../errors";
import { SHA256_HEX } from "./manifest";
import { type OwnerMark, ownerOf, SHA256_METADATA } from "./object-metadata";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

/** ListObjectsV2 answers at most this many keys a page. */
const LIST_PAGE = 1000;
/**
 * A HEAD per candidate instead of listing the path while there are at most
 * this many candidates per page the listing would take: HEADs run
 * concurrently, pages one after the other, and S3 prices a LIST like ten
 * GETs. An update of a few files in a large tree HEADs those few; a first
 * upload, a large change or a destroy lists.
 */
const HEADS_PER_PAGE = 10;

/** What a listing says about an object. */
export interface Listed {
  size: number;
  /** LastModified in ms; NaN when the store gave none. */
  lastModified: number;
}

/** What a HEAD says about an object. */
export interface Headed extends Listed {
  /** From x-amz-meta-sha256; undefined when the object has none (not written by this package). */
  sha256?: string;
  /** The owner set; no tokens for an object without a mark (0.1.0, another tool). */
  owner: OwnerMark;
  etag?: string;
}

/** Request counts, for tests and the bench. */
export interface ProbeRequests {
  list: number;
  head: number;
}

/** True when listing a path of about `pathObjects` objects is cheaper than HEADing `candidates` keys. */
export function listingPays(candidates: number, pathObjects: number): boolean {
  const pages = Math.ceil((pathObjects + 1) / LIST_PAGE);
  return candidates > pages * HEADS_PER_PAGE;
}

/** A HEAD of a key that holds no object (the store's 404): not the REST API's not-found (client/api-errors.ts). */
function isMissingObject(err: unknown): boolean {
  return err instanceof ZillizStoreError && (err.status === 404 || err.storeCode === "NotFound" || err.storeCode === "NoSuchKey");
}

const ms = (d: Date | undefined): number => (d ? d.getTime() : NaN);

/**
 * A key as a listing gave it. The SDK does not decode keys it asked to be
 * URL-encoded; a store that ignores the request says so by leaving out
 * EncodingType, and its keys are taken as they are. S3 encodes a space as "+".
 */
export function listedKey(key: string, encodingType: string | undefined): string {
  return encodingType === "url" ? decodeURIComponent(key.replace(/\+/g, " ")) : key;
}

/** A SHA-256 in hex as metadata holds it, or undefined for anything else. */
function digestOf(value: string | undefined): string | undefined {
  return value !== undefined && SHA256_HEX.test(value) ? value : undefined;
}

/** The object at `key`, or undefined when there is none. */
export async function headObject(session: StoreSession, key: string, rel: string, requests?: ProbeRequests): Promise<Headed | undefined> {
  const { HeadObjectCommand } = s3Sdk();
  const s3 = await session.s3();
  const Bucket = await session.bucket();
  if (requests) requests.head++;
  try {
    const res = await session.send(`HeadObject ${rel}`, () => s3.send(new HeadObjectCommand({ Bucket, Key: key }), { abortSignal: session.signal }));
    return {
      size: res.ContentLength ?? 0,
      lastModified: ms(res.LastModified),
      // Only a digest this package could have written counts: anything else (an empty value
      // another tool wrote) must never match a planned entry's, least of all a pending one.
      sha256: digestOf(res.Metadata?.[SHA256_METADATA]),
      owner: ownerOf(res.Metadata),
      etag: res.ETag,
    };
  } catch (err) {
    if (isMissingObject(err)) return undefined;
    throw err;
  }
}

/**
 * Lists `prefix` one page at a time, handing each page (relative path ->
 * size and LastModified) to `onPage` before the next one is asked for, so
 * work on a page overlaps the next request rather than waiting for all.
 */
export async function listPages(
  session: StoreSession,
  prefix: string,
  onPage: (page: ReadonlyArray<readonly [string, Listed]>) => void,
  requests?: ProbeRequests,
): Promise<void> {
  const { ListObjectsV2Command } = s3Sdk();
  const s3 = await session.s3();
  const Bucket = await session.bucket();
  let token: string | undefined;
  do {
    if (requests) requests.list++;
    // URL-encoded keys: XML cannot carry some control characters, and a CR would come back as LF.
    const page = await session.send(`ListObjectsV2 ${prefix}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token, EncodingType: "url" }), { abortSignal: session.signal }),
    );
    const entries: Array<readonly [string, Listed]> = [];
    for (const o of page.Contents ?? []) {
      if (o.Key) entries.push([listedKey(o.Key, page.EncodingType).slice(prefix.length), { size: o.Size ?? 0, lastModified: ms(o.LastModified) }]);
    }
    onPage(entries);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    // Stopping here would hide every object past this page (from a destroy, or from the look before an upload).
    if (page.IsTruncated && !token) {
      throw new ZillizStoreError({
        operation: `ListObjectsV2 ${prefix}`,
        storeCode: "TruncatedWithoutToken",
        description: `ListObjectsV2 ${prefix} said the listing goes on but gave no continuation token, so the rest cannot be listed`,
      });
    }
  } while (token);
}

/** relative path -> size and LastModified of every object under `prefix`. */
export async function listObjects(session: StoreSession, prefix: string, requests?: ProbeRequests): Promise<Map<string, Listed>> {
  const listed = new Map<string, Listed>();
  await listPages(session, prefix, (page) => page.forEach(([rel, seen]) => listed.set(rel, seen)), requests);
  return listed;
}

/**
 * The LastModified of each of `rels` as the store shows it now: one
 * listing when many, else a HEAD each. A key with no object is left out.
 */
export async function observeStamps(
  session: StoreSession,
  prefix: string,
  rels: readonly string[],
  pathObjects: number,
  requests?: ProbeRequests,
): Promise<Map<string, number>> {
  const stamps = new Map<string, number>();
  if (rels.length === 0) return stamps;
  if (listingPays(rels.length, pathObjects)) {
    // Page by page into the stamps: after a first upload of 100,000 files a
    // map of every listed object beside them cost the provider its peak.
    const wanted = new Set(rels);
    await listPages(
      session,
      prefix,
      (page) => {
        for (const [rel, seen] of page) if (wanted.has(rel) && Number.isFinite(seen.lastModified)) stamps.set(rel, seen.lastModified);
      },
      requests,
    );
    return stamps;
  }
  await Promise.all(
    rels.map(async (rel) => {
      const seen = await headObject(session, prefix + rel, rel, requests);
      if (seen && Number.isFinite(seen.lastModified)) stamps.set(rel, seen.lastModified);
    }),
  );
  return stamps;
}
