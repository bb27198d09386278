/**
 * Which planned uploads are already in the store, and whose they are: the
 * look recovery (recover.ts) takes before the first byte moves. An object
 * holding the planned content is adopted (not sent again) and, when another
 * resource owns it, joined; one holding other content is replaced when
 * unmarked, and another resource's is refused unless `takeOver` is set
 * (ownership rules: object-metadata.ts, ownership.ts).
 */
import { ZillizValidationError } from "../errors";
import { entryOf, type Manifest, type ManifestEntry } from "./manifest";
import type { ObjectOwner, OwnerMark } from "./object-metadata";
import { joinOwners } from "./ownership";
import { type Headed, headObject, listingPays, listObjects } from "./probe";
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

  // Which keys need a HEAD, decided before any request: a first upload of
  // 100,000 files into an empty path asks none, and must not make a promise each to find that out.
  const toHead = listed
    ? check.planned.filter((rel) => {
        const seen = listed.get(rel);
        if (!seen) return false;
        const old = entryOf(check.known, rel);
        // Our own old version, untouched since we wrote it: the plan replaces it.
        return !(old?.stamp !== undefined && old.stamp === seen.lastModified && old.size === seen.size);
      })
    : check.planned;
  await Promise.all(
    toHead.map(async (rel) => {
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
export function conflictError(conflicts: readonly ForeignObject[], shown = 5): ZillizValidationError {
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
