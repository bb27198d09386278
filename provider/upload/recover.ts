/**
 * What an interrupted run left behind, found by the next one before it
 * sends anything.
 *
 * After the CLI is killed (or a double Ctrl-C, or `refresh
 * --clear-pending-creates`), the objects that arrived are in the store but
 * in no state, and a multipart upload in flight may be left incomplete. The
 * next create or update adopts the objects whose size and recorded SHA-256
 * (object metadata, see manifest.ts) match the file it was about to send,
 * instead of sending them again, and aborts the incomplete multipart uploads
 * at keys the resource owns or is about to write. Nothing else under the
 * path is touched: it may belong to another resource.
 */
import { ZillizStoppedError, ZillizStoreError } from "../errors";
import { type Manifest, type ManifestEntry, SHA256_METADATA } from "./manifest";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

/** ListObjectsV2 answers at most this many keys a page. */
const LIST_PAGE = 1000;
/**
 * A HEAD per candidate instead of listing the path while there are at most
 * this many candidates per page the listing would take: HEADs run
 * concurrently, pages one after the other, and S3 prices a LIST like ten
 * GETs. An update of a few files in a large tree HEADs those few; a first
 * upload, or a large change, lists.
 */
const HEADS_PER_PAGE = 10;

export interface AdoptionCheck {
  /** stagePrefix + stage path: where the resource's objects live. */
  prefix: string;
  /** Relative paths planned for upload, with what they should hold. */
  planned: readonly string[];
  manifest: Manifest;
  /** What the state records as in the stage (the previous manifest); {} for a create. */
  known: Manifest;
}

export interface Adoption {
  /** Planned paths already holding exactly the planned content: not sent again. */
  adopted: string[];
  /** Planned paths holding an object the state does not know and that does not match: the upload replaces it. */
  replaced: string[];
  /** Requests the check made. */
  requests: { list: number; head: number };
}

interface Remote {
  size: number;
  /** From x-amz-meta-sha256; undefined when the object has none (not uploaded by this package) or was not asked. */
  sha256?: string;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ZillizStoreError && (err.status === 404 || err.storeCode === "NotFound" || err.storeCode === "NoSuchKey");
}

/** The object at `key`, or undefined when there is none. */
async function head(session: StoreSession, bucket: string, key: string, rel: string): Promise<Remote | undefined> {
  const { HeadObjectCommand } = s3Sdk();
  const s3 = await session.s3();
  try {
    const res = await session.send(`HeadObject ${rel}`, () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: session.signal }));
    return { size: res.ContentLength ?? 0, sha256: res.Metadata?.[SHA256_METADATA] };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** relative path -> size of every object under `prefix`, one page at a time. */
async function listSizes(session: StoreSession, bucket: string, prefix: string, requests: Adoption["requests"]): Promise<Map<string, number>> {
  const { ListObjectsV2Command } = s3Sdk();
  const s3 = await session.s3();
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    requests.list++;
    const page = await session.send(`ListObjectsV2 ${prefix}`, () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: session.signal }),
    );
    for (const o of page.Contents ?? []) if (o.Key) sizes.set(o.Key.slice(prefix.length), o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return sizes;
}

/**
 * Which planned uploads are already in the store, as planned. One listing of
 * the path and a HEAD for each object of the planned size, or (for a few
 * candidates in a large tree) one HEAD per candidate; never both for one
 * path. An object that is what the state recorded there is neither adopted
 * nor reported: it is simply the old version the plan replaces.
 */
async function findAdoptable(session: StoreSession, check: AdoptionCheck): Promise<Adoption> {
  const requests = { list: 0, head: 0 };
  const adopted: string[] = [];
  const replaced: string[] = [];
  if (check.planned.length === 0) return { adopted, replaced, requests };
  const bucket = await session.bucket();
  const knownCount = Object.keys(check.known).length;
  const pages = Math.ceil((knownCount + 1) / LIST_PAGE);
  const listed = check.planned.length > pages * HEADS_PER_PAGE ? await listSizes(session, bucket, check.prefix, requests) : undefined;

  const judge = (rel: string, remote: Remote | undefined) => {
    if (!remote) return;
    const want: ManifestEntry = check.manifest[rel];
    if (remote.size === want.size && remote.sha256 === want.sha256) {
      adopted.push(rel);
      return;
    }
    const old = check.known[rel];
    const isOld = old !== undefined && old.size === remote.size && (remote.sha256 === undefined || remote.sha256 === old.sha256);
    if (!isOld) replaced.push(rel);
  };

  await Promise.all(
    check.planned.map(async (rel) => {
      let remote: Remote | undefined;
      if (listed) {
        const size = listed.get(rel);
        if (size !== undefined && size !== check.manifest[rel].size) remote = { size };
        else if (size !== undefined) {
          // Only an object of the planned size can be the planned file: HEAD it for its digest.
          requests.head++;
          remote = await head(session, bucket, check.prefix + rel, rel);
        }
      } else {
        requests.head++;
        remote = await head(session, bucket, check.prefix + rel, rel);
      }
      judge(rel, remote);
    }),
  );
  return { adopted: adopted.sort(), replaced: replaced.sort(), requests };
}

/**
 * Aborts the incomplete multipart uploads under `prefix` whose key is one of
 * `owned` (relative paths the resource owns or is about to write): those an
 * interrupted run of this resource left. Returns the relative paths aborted.
 */
async function abortOrphanUploads(session: StoreSession, prefix: string, owned: (rel: string) => boolean): Promise<string[]> {
  const { AbortMultipartUploadCommand, ListMultipartUploadsCommand } = s3Sdk();
  const s3 = await session.s3();
  const Bucket = await session.bucket();
  const aborted: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await session.send(`ListMultipartUploads ${prefix}`, () =>
      s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix, KeyMarker, UploadIdMarker }), { abortSignal: session.signal }),
    );
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId || !u.Key.startsWith(prefix)) continue;
      const rel = u.Key.slice(prefix.length);
      if (!owned(rel)) continue;
      const { Key, UploadId } = u;
      await session.send(`AbortMultipartUpload ${rel}`, () => s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })));
      aborted.push(rel);
    }
    const more = page.IsTruncated && (page.NextKeyMarker || page.NextUploadIdMarker);
    KeyMarker = more ? page.NextKeyMarker : undefined;
    UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
  } while (KeyMarker || UploadIdMarker);
  return aborted.sort();
}

/** One line for the user about what the check found; undefined when there is nothing to say. */
function describeRecovery(found: { adopted: string[]; replaced: string[]; aborted: string[] }, shown = 5): string | undefined {
  const n = (count: number) => count.toLocaleString("en-US");
  const list = (rels: string[]) => rels.slice(0, shown).join(", ") + (rels.length > shown ? `, and ${n(rels.length - shown)} more` : "");
  const parts: string[] = [];
  if (found.adopted.length > 0) {
    parts.push(`adopted ${n(found.adopted.length)} object(s) already in the stage with the planned size and SHA-256, not sent again (${list(found.adopted)})`);
  }
  if (found.replaced.length > 0) {
    parts.push(`replacing ${n(found.replaced.length)} object(s) this resource did not record whose content differs from the local file (${list(found.replaced)})`);
  }
  if (found.aborted.length > 0) parts.push(`aborted ${n(found.aborted.length)} incomplete multipart upload(s) left by an interrupted run (${list(found.aborted)})`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** The stop as an error of ours, whatever the signal's reason was. */
export function stopReason(signal: AbortSignal): ZillizStoppedError {
  return signal.reason instanceof ZillizStoppedError ? signal.reason : new ZillizStoppedError(String((signal.reason as Error)?.message ?? signal.reason));
}

/**
 * Before the first byte moves: abort the incomplete multipart uploads an
 * interrupted run left at this resource's keys (only when a file large
 * enough to have gone multipart is planned, uploaded or removed), then find
 * the planned files that already arrived. Both are best effort against a
 * store that refuses them: then every planned file is sent, as before.
 */
export async function recoverInterrupted(
  session: StoreSession,
  run: { prefix: string; uploads: string[]; deletes: string[]; manifest: Manifest; known: Manifest; threshold: number },
  options: { signal?: AbortSignal; onNotice?: (line: string) => void },
): Promise<{ adopted: string[]; aborted: string[] }> {
  const found = { adopted: [] as string[], replaced: [] as string[], aborted: [] as string[] };
  const notes: string[] = [];
  const big = (entry: ManifestEntry | undefined) => entry !== undefined && entry.size >= run.threshold;
  const stopped = () => {
    if (options.signal?.aborted) throw stopReason(options.signal);
  };
  // The store refusing a listing or a HEAD (a stricter policy, a store
  // without the call) is no reason not to upload; a failure that every
  // request would meet (TLS, the network, retries run out) is.
  const mayGoOn = (err: unknown) => {
    if (!(err instanceof ZillizStoreError) || err.attempts !== undefined) throw err;
  };
  if (run.uploads.some((rel) => big(run.manifest[rel])) || run.deletes.some((rel) => big(run.known[rel]))) {
    try {
      found.aborted = await abortOrphanUploads(session, run.prefix, (rel) => rel in run.manifest || rel in run.known);
    } catch (err) {
      stopped();
      mayGoOn(err);
      notes.push(`could not look for incomplete multipart uploads (${(err as Error).message})`);
    }
  }
  try {
    const adoption = await findAdoptable(session, { prefix: run.prefix, planned: run.uploads, manifest: run.manifest, known: run.known });
    found.adopted = adoption.adopted;
    found.replaced = adoption.replaced;
  } catch (err) {
    stopped();
    mayGoOn(err);
    notes.push(`could not check the stage for files an interrupted run already sent, so every planned file is sent (${(err as Error).message})`);
  }
  const line = [describeRecovery(found), ...notes].filter(Boolean).join("; ");
  if (line) options.onNotice?.(session.targets.redact(line));
  return found;
}
