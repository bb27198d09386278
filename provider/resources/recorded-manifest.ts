/**
 * The manifest a files resource records, brought up to date with what the
 * store shows: after an upload (the stamps of the objects it wrote) and at
 * a refresh (only what is still there and still ours). Pure: the store was
 * already asked.
 */
import { emptyManifest, entryOf, type Manifest, type OwnedObjects } from "../upload";

/**
 * `next`, given the stamps (LastModified seen right after writing or
 * marking) of this run's objects, and the recorded stamps of the files it
 * left unchanged; never a stamp for an object this run did not write or
 * check. In place: `next` is the run's own scan, whose entries nothing else
 * holds, and a copy of 100,000 entries came at the provider's memory peak.
 */
export function stamped(next: Manifest, previous: Manifest, unchanged: readonly string[], stamps: ReadonlyMap<string, number>): Manifest {
  for (const rel of unchanged) {
    const stamp = entryOf(previous, rel)?.stamp;
    const entry = entryOf(next, rel);
    if (stamp !== undefined && entry) entry.stamp = stamp;
  }
  for (const [rel, stamp] of stamps) {
    const entry = entryOf(next, rel);
    if (entry) entry.stamp = stamp;
  }
  return next;
}

/**
 * Keep only what is really there with the recorded size and still ours;
 * anything else becomes a difference that the next `up` repairs (an object
 * another resource took over: refused there unless it holds the same
 * content). Written in the current form, whatever version wrote the state.
 */
export function reconciled(recorded: Manifest, retainedBefore: readonly string[], remote: OwnedObjects): { manifest: Manifest; retained: string[] } {
  const manifest = emptyManifest();
  for (const rel of Object.keys(recorded)) {
    const entry = recorded[rel];
    if (remote.listed.get(rel)?.size !== entry.size || remote.foreign.has(rel)) continue;
    const confirmed = remote.confirmed.get(rel);
    // A stamp read from a HEAD has whole seconds, a listing may have more:
    // the same second is the same write, and a refresh that changes
    // nothing must not rewrite the state.
    const sameWrite = confirmed !== undefined && entry.stamp !== undefined && Math.floor(confirmed / 1000) === Math.floor(entry.stamp / 1000);
    manifest[rel] = confirmed === undefined || sameWrite ? entry : { ...entry, stamp: confirmed };
  }
  const retained = retainedBefore.filter((rel) => remote.listed.has(rel) && !remote.foreign.has(rel));
  return { manifest, retained };
}
