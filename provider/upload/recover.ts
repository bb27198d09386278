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
 *
 * The same look (adoption.ts) decides ownership (object-metadata.ts): an object another
 * resource owns is joined (our token added to its owner set) when it holds
 * the planned content, which is what a rename, a `--replace` or a second
 * stack on the path finds, and refused otherwise unless `takeOver` is set;
 * so is changing an object we share with another resource.
 */
import { ZillizStoppedError, ZillizStoreError } from "../errors";
import { type Adoption, conflictError, findAdoptable, type ForeignObject } from "./adoption";
import { entryOf, type Manifest, type ManifestEntry } from "./manifest";
import type { ObjectOwner } from "./object-metadata";
import { markOwned } from "./ownership";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

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

/** One line for the user about what the check found; empty when there is nothing to say. */
function describeRecovery(
  found: { adopted: string[]; replaced: string[]; aborted: string[]; joined: ForeignObject[]; overwritten: ForeignObject[] },
  shown = 5,
): string {
  const n = (count: number) => count.toLocaleString("en-US");
  const list = (rels: string[]) => rels.slice(0, shown).join(", ") + (rels.length > shown ? `, and ${n(rels.length - shown)} more` : "");
  const from = (objects: ForeignObject[]) => [...new Set(objects.map((o) => o.urn))].slice(0, 3).join(", ");
  const parts: string[] = [];
  const joined = new Set(found.joined.map((t) => t.rel));
  const adopted = found.adopted.filter((rel) => !joined.has(rel));
  if (adopted.length > 0) {
    parts.push(`adopted ${n(adopted.length)} object(s) already in the stage with the planned size and SHA-256, not sent again (${list(adopted)})`);
  }
  if (found.joined.length > 0) {
    parts.push(
      `now co-owns ${n(found.joined.length)} object(s) with the planned content with ${from(found.joined)} (a renamed or replaced resource, or another stack); ` +
        `a delete of either leaves them to the other (${list(found.joined.map((t) => t.rel))})`,
    );
  }
  if (found.overwritten.length > 0) {
    parts.push(`overwriting ${n(found.overwritten.length)} object(s) of ${from(found.overwritten)} because takeOver is set (${list(found.overwritten.map((t) => t.rel))})`);
  }
  if (found.replaced.length > 0) {
    parts.push(`replacing ${n(found.replaced.length)} object(s) this resource did not record whose content differs from the local file (${list(found.replaced)})`);
  }
  if (found.aborted.length > 0) parts.push(`aborted ${n(found.aborted.length)} incomplete multipart upload(s) left by an interrupted run (${list(found.aborted)})`);
  return parts.join("; ");
}

/** The stop as an error of ours, whatever the signal's reason was. */
export function stopReason(signal: AbortSignal): ZillizStoppedError {
  return signal.reason instanceof ZillizStoppedError ? signal.reason : new ZillizStoppedError(String((signal.reason as Error)?.message ?? signal.reason));
}

/**
 * Before the first byte moves: find the planned files that already arrived
 * and whose they are, refusing the run (before any write, before any abort)
 * when a planned key holds another resource's object with other content;
 * then abort the incomplete multipart uploads an interrupted run left at
 * this resource's keys (only when a file large enough to have gone
 * multipart is planned, uploaded or removed), and write our owner mark onto
 * the adopted objects that lack it. Looking is best effort against a store
 * that refuses it: then every planned file is sent, as before.
 */
export async function recoverInterrupted(
  session: StoreSession,
  run: {
    prefix: string;
    uploads: string[];
    deletes: string[];
    manifest: Manifest;
    known: Manifest;
    threshold: number;
    owner?: ObjectOwner;
    takeOver?: boolean;
  },
  options: { signal?: AbortSignal; onNotice?: (line: string) => void },
): Promise<{ adopted: string[]; aborted: string[]; stamps: Map<string, number> }> {
  const found = {
    adopted: [] as string[],
    replaced: [] as string[],
    aborted: [] as string[],
    joined: [] as ForeignObject[],
    overwritten: [] as ForeignObject[],
    stamps: new Map<string, number>(),
  };
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
  let toMark: Adoption["toMark"] = [];
  let conflicts: ForeignObject[] = [];
  try {
    const adoption = await findAdoptable(session, {
      prefix: run.prefix,
      planned: run.uploads,
      manifest: run.manifest,
      known: run.known,
      owner: run.owner,
      takeOver: run.takeOver,
    });
    conflicts = adoption.conflicts;
    found.adopted = adoption.adopted;
    found.replaced = adoption.replaced;
    found.joined = adoption.joined;
    found.overwritten = adoption.overwritten;
    found.stamps = adoption.stamps;
    toMark = adoption.toMark;
  } catch (err) {
    // A refusal from the look itself (too many owners to join) is not a store error: mayGoOn rethrows it.
    stopped();
    mayGoOn(err);
    notes.push(
      `could not check the stage for files an interrupted run already sent or another resource owns, so every planned file is sent (${(err as Error).message})`,
    );
  }
  if (conflicts.length > 0) throw conflictError(conflicts);
  if (run.uploads.some((rel) => big(entryOf(run.manifest, rel))) || run.deletes.some((rel) => big(entryOf(run.known, rel)))) {
    try {
      found.aborted = await abortOrphanUploads(session, run.prefix, (rel) => Object.hasOwn(run.manifest, rel) || Object.hasOwn(run.known, rel));
    } catch (err) {
      stopped();
      mayGoOn(err);
      notes.push(`could not look for incomplete multipart uploads (${(err as Error).message})`);
    }
  }
  // Failing to mark is failing the run: an adopted object without our mark
  // would be deleted by its previous owner's destroy. (Without an owner there is nothing to mark.)
  await Promise.all(
    toMark.map(async ({ rel, etag, mark }) => {
      const stamp = await markOwned(session, run.prefix + rel, rel, run.manifest[rel].sha256, mark, etag);
      // A stamp says "ours alone, unless it moved": a shared object must
      // get a HEAD at our delete, which then only leaves the set.
      if (stamp !== undefined && mark.tokens.length === 1) found.stamps.set(rel, stamp);
    }),
  );
  const line = [describeRecovery(found), ...notes].filter(Boolean).join("; ");
  if (line) options.onNotice?.(session.targets.redact(line));
  return { adopted: found.adopted, aborted: found.aborted, stamps: found.stamps };
}
