/**
 * Which files the last create or update of a files resource added or
 * changed, kept small in the state: index ranges over the manifest's sorted
 * paths (`"0-99999"` when everything is new, `"17,40-41"` for a few), not a
 * second copy of the paths. The program turns them back into
 * `changedDataPaths` for an ImportJob that imports only what is new. Pure;
 * no dependency, so the program can load it cheaply.
 */

/** `sorted` are the manifest's paths in `manifestPaths` order; the result lists the changed ones as ranges of their indexes. */
export function encodeChanged(sorted: readonly string[], changed: Iterable<string>): string {
  const wanted = new Set(changed);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (!wanted.has(sorted[i])) continue;
    let j = i;
    while (j + 1 < sorted.length && wanted.has(sorted[j + 1])) j++;
    ranges.push(i === j ? String(i) : `${i}-${j}`);
    i = j;
  }
  return ranges.join(",");
}

/** The paths `encoded` names among `sorted`; nothing for state written before this output existed. */
export function decodeChanged(encoded: unknown, sorted: readonly string[]): string[] {
  if (typeof encoded !== "string" || encoded === "") return [];
  const out: string[] = [];
  for (const range of encoded.split(",")) {
    const [a, b = a] = range.split("-").map(Number);
    for (let i = a; i <= b && i < sorted.length; i++) out.push(sorted[i]);
  }
  return out;
}
