// The manifest as the state keeps it: every entry survives the round trip,
// the 0.1.0 object form still reads, and a damaged string fails clearly.
import { createHash } from "node:crypto";
import { decodeManifest, encodeManifest, Manifest, manifestHash, manifestPaths } from "../../provider/upload";
import { sameMtime } from "../../provider/upload/scan";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function sample(n: number): Manifest {
  const m: Manifest = {};
  for (let i = 0; i < n; i++) {
    // Real stat mtimes: milliseconds with a nanosecond fraction, not in path order.
    m[`part-${i % 7}/file-${String(i).padStart(5, "0")}.parquet`] = { size: (i * 7919) % 100_000, sha256: sha(String(i)), mtimeMs: 1_732_000_000_000 + ((i * 104729) % 86_400_000) + 0.123456 };
  }
  return m;
}

describe("manifest codec", () => {
  test("round trip: paths, sizes and hashes exactly; mtimes to the microsecond", () => {
    const m = sample(1000);
    // Paths that front coding and UTF-8 must both get right.
    m["é/ü.json"] = { size: 0, sha256: sha(""), mtimeMs: 0 };
    m["é/üz.json"] = { size: 2 ** 40, sha256: sha("big"), mtimeMs: 1 };
    m["10"] = { size: 1, sha256: sha("x"), mtimeMs: 4_000_000_000_000.001 }; // the year 2096
    m["0-old"] = { size: 1, sha256: sha("y"), mtimeMs: -86_400_000.5 }; // 1969
    // Two emoji that share the first half of their surrogate pair.
    m["img/\u{1F600}.png"] = { size: 3, sha256: sha("grin"), mtimeMs: 2 };
    m["img/\u{1F601}.png"] = { size: 4, sha256: sha("beam"), mtimeMs: 3 };
    const decoded = decodeManifest(encodeManifest(m));
    expect(Object.keys(decoded).sort()).toEqual(Object.keys(m).sort());
    for (const [rel, e] of Object.entries(m)) {
      expect(decoded[rel].size).toBe(e.size);
      expect(decoded[rel].sha256).toBe(e.sha256);
      expect(sameMtime(decoded[rel].mtimeMs, e.mtimeMs)).toBe(true);
      expect(Math.abs(decoded[rel].mtimeMs - e.mtimeMs)).toBeLessThan(0.001);
    }
    expect(manifestHash(decoded)).toBe(manifestHash(m));
    expect(manifestPaths(encodeManifest(m))).toEqual(Object.keys(m).sort());
    // Encoding what was decoded gives the same string: state does not churn.
    expect(encodeManifest(decoded)).toBe(encodeManifest(m));
  });

  test("about 45 bytes a file", () => {
    const encoded = encodeManifest(sample(10_000));
    expect(encoded.length / 10_000).toBeLessThan(50);
  });

  test("the 0.1.0 object form, an empty manifest and an absent one", () => {
    const m = sample(3);
    const decoded = decodeManifest(m);
    expect(decoded).toEqual(m);
    // A copy without a prototype: file names like `constructor` are only entries.
    expect(Object.getPrototypeOf(decoded)).toBeNull();
    expect(manifestPaths(m)).toEqual(Object.keys(m).sort());
    expect(decodeManifest(encodeManifest({}))).toEqual({});
    expect(decodeManifest(undefined)).toEqual({});
    expect(manifestPaths(undefined)).toEqual([]);
  });

  test("zm2: stamps survive the round trip, entries without one stay without; 100,000 stamped files stay under 8 MB", () => {
    const m = sample(100_000);
    const rels = Object.keys(m).sort();
    // One run's stamps lie milliseconds apart; some files have none (sent before owners, or unreadable).
    rels.forEach((rel, i) => {
      if (i % 10 !== 3) m[rel].stamp = 1_765_000_000_000 + i * 3 + (i % 5);
    });
    const encoded = encodeManifest(m);
    expect(encoded.startsWith("zm2:")).toBe(true);
    expect(encoded.length).toBeLessThan(8_000_000);
    // A byte or so a file more than zm1's 45.
    expect(encoded.length / 100_000).toBeLessThan(48);
    const decoded = decodeManifest(encoded);
    expect(rels.filter((rel) => decoded[rel].stamp !== m[rel].stamp)).toEqual([]);
    expect(Object.hasOwn(decoded[rels[3]], "stamp")).toBe(false);
    expect(encodeManifest(decoded)).toBe(encoded);
  });

  test("zm1 (the release before owners) still reads, without stamps", () => {
    // encodeManifest's output at 3399fa2 for one file "a.json" holding "a".
    const zm1 = "zm1:AAAAIh+LCAAAAAAAAANjZGBL1Msqzs9jZHjBzgAAyrYFEg4AAADKl4ESyhu9yvrCMbOaI9xNp4bv+BR8TnK5gHeFr+5Iuw==";
    const decoded = decodeManifest(zm1);
    expect({ ...decoded }).toEqual({ "a.json": { size: 1, sha256: sha("a"), mtimeMs: 1 } });
    expect(manifestPaths(zm1)).toEqual(["a.json"]);
  });

  test("file names that are members of Object.prototype are entries like any other", () => {
    const m: Manifest = Object.create(null);
    for (const rel of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) m[rel] = { size: 1, sha256: sha(rel), mtimeMs: 1 };
    const decoded = decodeManifest(encodeManifest(m));
    expect(Object.keys(decoded).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"]);
    expect(decoded["__proto__"].sha256).toBe(sha("__proto__"));
    // 0.1.0's object form, as JSON.parse gives it (an own "__proto__").
    const plain = decodeManifest(JSON.parse(`{"__proto__": {"size": 1, "sha256": "${sha("p")}", "mtimeMs": 1}}`));
    expect(Object.keys(plain)).toEqual(["__proto__"]);
    expect(decodeManifest({})["constructor"]).toBeUndefined();
  });

  test("a damaged string fails with the way out", () => {
    const good = encodeManifest(sample(20));
    expect(() => decodeManifest("zm9:abc")).toThrow(/cannot be decoded .*does not start with "zm2:" or "zm1:".*pulumi refresh/);
    expect(() => decodeManifest(good.slice(0, good.length - 40))).toThrow(/cannot be decoded/);
    expect(() => encodeManifest({ "a.json": { size: 1, sha256: "not hex", mtimeMs: 0 } })).toThrow(/not a SHA-256/);
  });

  test("an object source's ETags travel in a column of their own, written only when some entry has one", () => {
    const local = sample(20);
    const withTags: Manifest = Object.create(null);
    for (const rel of Object.keys(local)) withTags[rel] = { ...local[rel] };
    const rels = Object.keys(withTags).sort();
    withTags[rels[0]].etag = '"0cc175b9c0f1b6a831c399e269772661"';
    withTags[rels[1]].etag = '"9e107d9d372bb6826bd81d3542a419d6-3"';
    const decoded = decodeManifest(encodeManifest(withTags));
    expect(decoded[rels[0]].etag).toBe('"0cc175b9c0f1b6a831c399e269772661"');
    expect(decoded[rels[1]].etag).toBe('"9e107d9d372bb6826bd81d3542a419d6-3"');
    expect(decoded[rels[2]].etag).toBeUndefined();
    // A local source's state is byte for byte what it was before ETags existed.
    const plain = encodeManifest(local);
    expect(Object.values(decodeManifest(plain)).every((e) => e.etag === undefined)).toBe(true);
    expect(encodeManifest(withTags).length).toBeGreaterThan(plain.length);
    for (const rel of rels.slice(2)) delete withTags[rel].etag;
    delete withTags[rels[0]].etag;
    delete withTags[rels[1]].etag;
    expect(encodeManifest(withTags)).toBe(plain);
  });
});
