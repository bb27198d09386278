import { entryOf, type Manifest } from "./manifest";

/** What to do to turn the stage's files from `previous` into `next`. */
export interface Plan {
  /** New files and files whose size or content changed. */
  upload: string[];
  /** Files in `previous` that `next` no longer has. */
  delete: string[];
  unchanged: string[];
}

/** Pure: compares content (size, sha256), never modification times. */
export function planChanges(previous: Manifest | undefined, next: Manifest): Plan {
  const upload: string[] = [];
  const unchanged: string[] = [];
  for (const rel of Object.keys(next).sort()) {
    const old = entryOf(previous, rel);
    if (old && old.size === next[rel].size && old.sha256 === next[rel].sha256) unchanged.push(rel);
    else upload.push(rel);
  }
  const remove = Object.keys(previous ?? {}).filter((rel) => !Object.hasOwn(next, rel)).sort();
  return { upload, delete: remove, unchanged };
}
