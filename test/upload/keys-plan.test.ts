// The pure parts: stage paths, object keys, plans, manifest hashes. No disk, no network.
import { createHash } from "node:crypto";
import { manifestHash, manifestSchema, normalizeStagePath, objectKey, planChanges } from "../../provider/upload";
import { ZillizValidationError } from "../../provider/errors";

const entry = (size: number, h: string, mtimeMs = 1) => ({ size, sha256: h.repeat(64), mtimeMs });

describe("normalizeStagePath", () => {
  test.each([
    [undefined, ""],
    ["", ""],
    ["data", "data/"],
    ["data/", "data/"],
    ["a/b/c", "a/b/c/"],
    ["données/2024 🚀/", "données/2024 🚀/"],
    // The newest SDK's rules: empty and "." segments are dropped.
    ["a//b/./c", "a/b/c/"],
    ["./a", "a/"],
    ["a/b//", "a/b/"],
    ["./", ""],
    ["a b/c", "a b/c/"],
  ])("%j -> %j", (input, out) => expect(normalizeStagePath(input)).toBe(out));

  test.each([
    ["../up", /"\.\." segment/],
    ["a/../b", /"\.\." segment/],
    ["a/b/..", /"\.\." segment/],
    ["a/./../b", /"\.\." segment/],
    ["  ", /is blank/],
    ["\t", /is blank/],
    [" data/", /leading or trailing spaces.*" data"/],
    ["data /x", /leading or trailing spaces.*"data "/],
    ["a/b /", /leading or trailing spaces/],
    ["/abs", /starts with "\/".*write "data\/"/],
    ["/", /starts with "\/"/],
    ["a\\b", /backslash.*separate directories with "\/"/],
    ["bad\u0001name", /control characters/],
    ["tab\there", /control characters/],
  ])("%j is refused on field path, saying how to fix it", (input, message) => {
    let err: unknown;
    try {
      normalizeStagePath(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as ZillizValidationError).field).toBe("path");
    expect((err as Error).message).toMatch(message);
  });
});

describe("objectKey", () => {
  test("is stagePrefix + stagePath + relativePath", () => {
    expect(objectKey("stages/p/s/", "data/", "données/ü.parquet")).toBe("stages/p/s/data/données/ü.parquet");
    expect(objectKey("stages/p/s/", "", "a.json")).toBe("stages/p/s/a.json");
  });

  test("counts UTF-8 bytes against S3's 1024 and names the file", () => {
    const prefix = "stages/p/s/";
    // 3 bytes per character: 337 × 3 + 11 = 1022 fits, one more does not.
    expect(() => objectKey(prefix, "", "€".repeat(337))).not.toThrow();
    const long = "€".repeat(338);
    expect(() => objectKey(prefix, "", long)).toThrow(ZillizValidationError);
    expect(() => objectKey(prefix, "", long)).toThrow(new RegExp(`${long}: its object key would be 1025 bytes, above S3's limit of 1024`));
  });

  test.each([[""], ["../x"], ["a//b"], ["/etc/passwd"], ["a/./b"]])("refuses the relative path %j", (rel) => {
    expect(() => objectKey("p/", "", rel)).toThrow(ZillizValidationError);
  });
});

describe("planChanges", () => {
  test("file names that are members of Object.prototype are planned like any other", () => {
    const e = (sha: string) => ({ size: 1, sha256: sha.repeat(64), mtimeMs: 1 });
    const prev = Object.assign(Object.create(null), { constructor: e("a"), toString: e("b"), keep: e("c") });
    const next = JSON.parse(`{"__proto__": ${JSON.stringify(e("d"))}, "keep": ${JSON.stringify(e("c"))}, "hasOwnProperty": ${JSON.stringify(e("f"))}}`);
    expect(planChanges(prev, next)).toEqual({ upload: ["__proto__", "hasOwnProperty"], delete: ["constructor", "toString"], unchanged: ["keep"] });
    // A plain {} previous (0.1.0 state read as it is) inherits `constructor`: it must not count as recorded.
    expect(planChanges({}, JSON.parse(`{"constructor": ${JSON.stringify(e("a"))}}`)).upload).toEqual(["constructor"]);
  });

  test("uploads new and changed, deletes removed, keeps the rest; all sorted", () => {
    const prev = { c: entry(1, "c"), a: entry(1, "a"), b: entry(1, "b"), z: entry(1, "z") };
    const next = { d: entry(1, "d"), b: entry(2, "b"), a: entry(1, "a"), y: entry(1, "9") };
    expect(planChanges(prev, next)).toEqual({ upload: ["b", "d", "y"], delete: ["c", "z"], unchanged: ["a"] });
    // Names that look like array indexes come first and in numeric order from Object.keys; the plan sorts them as text.
    expect(planChanges({}, { "9": entry(1, "9"), "10": entry(1, "10"), a: entry(1, "a") }).upload).toEqual(["10", "9", "a"]);
  });

  test("a changed hash with the same size is a change; a changed mtime alone is not", () => {
    const prev = { a: entry(1, "a"), b: entry(1, "b") };
    const next = { a: entry(1, "a", 999), b: entry(1, "c") };
    expect(planChanges(prev, next)).toEqual({ upload: ["b"], delete: [], unchanged: ["a"] });
  });

  test("no previous manifest uploads everything; an empty next deletes everything", () => {
    const m = { b: entry(1, "b"), a: entry(1, "a") };
    expect(planChanges(undefined, m)).toEqual({ upload: ["a", "b"], delete: [], unchanged: [] });
    expect(planChanges(m, {})).toEqual({ upload: [], delete: ["a", "b"], unchanged: [] });
  });
});

describe("manifest", () => {
  test("manifestHash ignores mtimes and key order, and sees path, size and content", () => {
    const base = manifestHash({ x: entry(1, "a"), y: entry(2, "b") });
    expect(manifestHash({ y: entry(2, "b", 5), x: entry(1, "a", 7) })).toBe(base);
    expect(manifestHash({ x: entry(1, "c"), y: entry(2, "b") })).not.toBe(base);
    expect(manifestHash({ x: entry(3, "a"), y: entry(2, "b") })).not.toBe(base);
    expect(manifestHash({ z: entry(1, "a"), y: entry(2, "b") })).not.toBe(base);
    expect(manifestHash({})).toBe(manifestHash(undefined));
  });

  test("manifestHash is the SHA-256 of the sorted `path\\0size\\0sha256\\n` lines, whatever the names and however many", () => {
    // What earlier versions wrote into the state (an ImportJob's trigger may hold it): it must not move.
    const lines = (m: Record<string, ReturnType<typeof entry>>) =>
      createHash("sha256")
        .update(Object.keys(m).sort().map((rel) => `${rel}\0${m[rel].size}\0${m[rel].sha256}\n`).join(""))
        .digest("hex");
    const many: Record<string, ReturnType<typeof entry>> = {};
    for (let i = 0; i < 3000; i++) many[`dir ${i % 7}/données-${i}-🚀.json`] = entry(i * 4099, "0123456789abcdef"[i % 16]);
    const long = { ["x".repeat(30_000) + "é"]: entry(1, "a"), a: entry(0, "b"), ["ü".repeat(40_000)]: entry(7, "c") };
    for (const m of [{}, { a: entry(1, "a") }, many, long]) expect(manifestHash(m)).toBe(lines(m));
  });

  test("the schema accepts plain entries and refuses malformed ones", () => {
    expect(manifestSchema.safeParse({ "a/b.json": entry(1, "a") }).success).toBe(true);
    expect(manifestSchema.safeParse({ a: { size: 1, sha256: "nothex", mtimeMs: 1 } }).success).toBe(false);
    expect(manifestSchema.safeParse({ a: { size: -1, sha256: "a".repeat(64), mtimeMs: 1 } }).success).toBe(false);
  });
});
