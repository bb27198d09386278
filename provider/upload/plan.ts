import { entryOf, type Manifest } from "./manifest";

/** What to do to turn the stage's files from `previous` into `next`. */
export interface Plan {
  /** New files and files whose size or content changed. */
  upload: string[];
  /** Files in `previous` that `next` no longer has. */
  delete: string[];
  unchanged: string[];
}

/** `keys` in code-unit order; a manifest a scan built usually is already, and checking costs less than sorting. */
function sorted(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] > keys[i]) return keys.sort();
  return keys;
}

/** Pure: compares content (size, sha256), never modification times. */
export function planChanges(previous: Manifest | undefined, next: Manifest): Plan {
  const upload: string[] = [];
  const unchanged: string[] = [];
  for (const rel of sorted(Object.keys(next))) {
    const old = entryOf(previous, rel);
    if (old && old.size === next[rel].size && old.sha256 === next[rel].sha256) unchanged.push(rel);
    else upload.push(rel);
  }
  const remove = Object.keys(previous ?? {}).filter((rel) => !Object.hasOwn(next, rel)).sort();
  return { upload, delete: remove, unchanged };
}
