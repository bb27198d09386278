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
 * The same look decides ownership (object-metadata.ts): an object another
 * resource owns is joined (our token added to its owner set) when it holds
 * the planned content, which is what a rename, a `--replace` or a second
 * stack on the path finds, and refused otherwise unless `takeOver` is set;
 * so is changing an object we share with another resource.
 */
import { ZillizStoppedError, ZillizStoreError, ZillizValidationError } from "../errors";
import { entryOf, type Manifest, type ManifestEntry } from "./manifest";
import type { ObjectOwner, OwnerMark } from "./object-metadata";
import { joinOwners, markOwned } from "./ownership";
import { type Headed, headObject, listingPays, listObjects } from "./probe";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";

export interface AdoptionCheck {
  /** stagePrefix + stage path: where the resource's objects live. */
  prefix: string;
  /** Relative paths planned for upload, with what they should hold. */
  planned: readonly string[];
  manifest: Manifest;
  /** What the state records as in the stage (the previous manifest); empty for a create. */
  known: Manifest;
  /** Who writes; undefined only for callers that predate owners (then every mark is ignored). */
  owner?: ObjectOwner;
  /** The resource's `takeOver` input: overwrite another resource's object with different content. */
  takeOver?: boolean;
}

/** An object another resource owns at a planned key. */
export interface ForeignObject {
  rel: string;
  /** The most recent owner's. */
  urn: string;
  /** This resource is one of its owners too. */
  shared?: boolean;
}

export interface Adoption {
  /** Planned paths already holding exactly the planned content: not sent again. */
  adopted: string[];
  /** Planned paths holding an object the state does not know and that does not match: the upload replaces it. */
  replaced: string[];
  /** Adopted objects that need our token in their owner set (unmarked, or another owner's with the same content), and the set to write. */
  toMark: { rel: string; etag?: string; mark: OwnerMark }[];
  /** Of those, the ones another resource owned: joined, that resource stays an owner. */
  joined: ForeignObject[];
  /** Another resource's objects with different content, overwritten because `takeOver` is set. */
  overwritten: ForeignObject[];
  /** Another resource's objects with different content, and `takeOver` not set: the run is refused. */
  conflicts: ForeignObject[];
  /** LastModified of adopted objects already carrying our mark, as the HEAD saw it: their stamps. */
  stamps: Map<string, number>;
}

/**
 * Which planned uploads are already in the store, and whose they are. One
 * listing of the path (when many are planned) and a HEAD for each planned
 * key holding an object, or one HEAD per planned key; the HEAD reads the
 * owner mark. A key the state records whose object the listing shows as
 * stamped needs no HEAD: it is our own old version, which the plan replaces.
 */
export async function findAdoptable(session: StoreSession, check: AdoptionCheck): Promise<Adoption> {
  const found: Adoption = { adopted: [], replaced: [], toMark: [], joined: [], overwritten: [], conflicts: [], stamps: new Map() };
  const knownCount = Object.keys(check.known).length;
  const listed = listingPays(check.planned.length, knownCount) ? await listObjects(session, check.prefix) : undefined;

  const judge = (rel: string, remote: Headed) => {
    const want: ManifestEntry = check.manifest[rel];
    const same = remote.size === want.size && remote.sha256 === want.sha256;
    const { tokens, urn } = remote.owner;
    const owner = check.owner;
    // Our own earlier token (same URN: state lost to an interrupted create, or a --replace): ours, not another's.
    const earlier = owner?.urn && urn === owner.urn && tokens[0] !== owner.token ? tokens[0] : undefined;
    const others = tokens.filter((t) => t !== owner?.token && t !== earlier);
    if (owner !== undefined && others.length > 0) {
      // Another resource's object (a renamed or replaced one's, another stack's), or one we share with it.
      const other = { rel, urn: urn ?? "an unknown resource" };
      const shared = tokens.includes(owner.token);
      if (same) {
        found.adopted.push(rel);
        if (!shared) {
          found.toMark.push({ rel, etag: remote.etag, mark: joinOwners(remote.owner, owner, rel, earlier) });
          found.joined.push(other);
        }
      } else if (check.takeOver) found.overwritten.push({ ...other, shared });
      else found.conflicts.push({ ...other, shared });
      return;
    }
    if (owner !== undefined && tokens[0] === owner.token) {
      // Ours alone (no other token is left here): an interrupted run's, or the old version the plan replaces.
      if (same) {
        found.adopted.push(rel);
        if (Number.isFinite(remote.lastModified)) found.stamps.set(rel, remote.lastModified);
      }
      return;
    }
    // Unmarked (0.1.0, another tool), or ours under an earlier token.
    if (same) {
      found.adopted.push(rel);
      if (owner) found.toMark.push({ rel, etag: remote.etag, mark: joinOwners(remote.owner, owner, rel, earlier) });
      return;
    }
    const old = entryOf(check.known, rel);
    const isOld = old !== undefined && old.size === remote.size && (remote.sha256 === undefined || remote.sha256 === old.sha256);
    if (!isOld && tokens.length === 0) found.replaced.push(rel);
  };

  await Promise.all(
    check.planned.map(async (rel) => {
      if (listed) {
        const seen = listed.get(rel);
        if (!seen) return;
        const old = entryOf(check.known, rel);
        // Our own old version, untouched since we wrote it: the plan replaces it.
        if (old?.stamp !== undefined && old.stamp === seen.lastModified && old.size === seen.size) return;
      }
      const remote = await headObject(session, check.prefix + rel, rel);
      if (remote) judge(rel, remote);
    }),
  );
  for (const list of [found.adopted, found.replaced]) list.sort();
  // HEADs answer in any order; the lists are in path order. No two entries share a path.
  for (const list of [found.joined, found.overwritten, found.conflicts, found.toMark]) list.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return found;
}

/** The refusal when planned keys hold another resource's objects with other content. */
function conflictError(conflicts: readonly ForeignObject[], shown = 5): ZillizValidationError {
  const urns = [...new Set(conflicts.map((c) => c.urn))];
  const keys = conflicts.slice(0, shown).map((c) => c.rel).join(", ") + (conflicts.length > shown ? `, and ${conflicts.length - shown} more` : "");
  const shared = conflicts.filter((c) => c.shared).length;
  const sharing =
    shared > 0
      ? ` ${shared} of them this resource shares with that resource (it holds the same content there too); changing a shared object changes it for both. `
      : " ";
  return new ZillizValidationError(
    "path",
    `${conflicts.length} planned file(s) are already in the ${conflicts.length === 1 ? "object" : "objects"} of another resource (${urns.join(", ")}) ` +
      `with different content: ${keys}.${sharing}Nothing was written. Give this resource a different \`path\` (two resources, e.g. in two stacks, ` +
      `should not share one), or set \`takeOver: true\` on it to overwrite that resource's objects (its destroy will then leave them).`,
  );
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
