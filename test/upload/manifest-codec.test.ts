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

  test("a damaged string fails with the way out", () => {
    const good = encodeManifest(sample(20));
    expect(() => decodeManifest("zm9:abc")).toThrow(/cannot be decoded .*does not start with "zm2:" or "zm1:".*pulumi refresh/);
    expect(() => decodeManifest(good.slice(0, good.length - 40))).toThrow(/cannot be decoded/);
    expect(() => encodeManifest({ "a.json": { size: 1, sha256: "not hex", mtimeMs: 0 } })).toThrow(/not a SHA-256/);
  });
});
