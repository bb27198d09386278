// Scan and plan: real files in temp dirs, no network.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { manifestHash, normalizeStagePath, objectKey, planChanges, scanSource } from "../../provider/upload";
import { ZillizValidationError } from "../../provider/errors";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

describe("scanSource", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkTmp()));
  afterEach(() => rmTmp(dir));

  test("nested directories, unicode names, an empty file; empty directories produce nothing", async () => {
    await writeTree(dir, { "a.json": "A", "données/ü.parquet": "PARQUET", "deep/x/y/z.npy": "Z", "empty.json": "", "emoji 🚀.json": "R" });
    await fs.mkdir(path.join(dir, "nothing", "here"), { recursive: true });
    const { manifest, root, stats } = await scanSource(dir);
    expect(root).toBe(path.resolve(dir));
    expect(Object.keys(manifest)).toEqual(["a.json", "deep/x/y/z.npy", "données/ü.parquet", "emoji 🚀.json", "empty.json"]);
    expect(manifest["empty.json"]).toMatchObject({ size: 0, sha256: sha("") });
    expect(manifest["données/ü.parquet"]).toMatchObject({ size: 7, sha256: sha("PARQUET") });
    expect(stats).toMatchObject({ files: 5, bytes: 10, hashedFiles: 5, reusedFiles: 0 });
  });

  test("a single file maps to its base name", async () => {
    await writeTree(dir, { "only.parquet": "P" });
    const { manifest, root } = await scanSource(path.join(dir, "only.parquet"));
    expect(Object.keys(manifest)).toEqual(["only.parquet"]);
    expect(root).toBe(path.resolve(dir));
  });

  test("large files hash like crypto does, on worker threads", async () => {
    const big = randomBytes(10 * 1024 * 1024);
    const files: Record<string, Buffer> = { "big.bin": big };
    for (let i = 0; i < 20; i++) files[`s/${i}.bin`] = randomBytes(100_000);
    await writeTree(dir, files);
    const { manifest } = await scanSource(dir, { hashConcurrency: 2 });
    expect(manifest["big.bin"]).toMatchObject({ size: big.length, sha256: sha(big) });
    expect(manifest["s/7.bin"].sha256).toBe(sha(files["s/7.bin"]));
  });

  test("include/exclude, and patterns that match nothing are reported", async () => {
    await writeTree(dir, { "a.parquet": "1", "b.json": "2", "tmp/c.parquet": "3", ".hidden.parquet": "4" });
    const r = await scanSource(dir, { include: ["**/*.parquet", "*.csv"], exclude: ["tmp/**", "*.bak"] });
    expect(Object.keys(r.manifest)).toEqual([".hidden.parquet", "a.parquet"]);
    expect(r.unmatchedPatterns).toEqual(["*.csv", "*.bak"]);
  });

  test("the previous manifest is a cache: same size and mtime, no read", async () => {
    await writeTree(dir, { "a.json": "A", "b.json": "B" });
    const first = await scanSource(dir);
    // Poison the cache: if the scan trusted size+mtime it returns the poisoned hash.
    const poisoned = { ...first.manifest, "a.json": { ...first.manifest["a.json"], sha256: "0".repeat(64) } };
    const second = await scanSource(dir, { cache: poisoned });
    expect(second.manifest["a.json"].sha256).toBe("0".repeat(64));
    expect(second.stats).toMatchObject({ hashedFiles: 0, reusedFiles: 2 });
    const forced = await scanSource(dir, { cache: poisoned, forceRehash: true });
    expect(forced.manifest["a.json"].sha256).toBe(sha("A"));
    expect(forced.stats.hashedFiles).toBe(2);
    // A changed mtime means a read.
    await fs.utimes(path.join(dir, "b.json"), new Date(), new Date(Date.now() + 5000));
    const third = await scanSource(dir, { cache: first.manifest });
    expect(third.stats).toMatchObject({ hashedFiles: 1, reusedFiles: 1 });
  });

  test("a FIFO is refused by name, without hanging", async () => {
    await writeTree(dir, { "ok.json": "1" });
    execFileSync("mkfifo", [path.join(dir, "pipe")]);
    const err = await scanSource(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("source");
    expect(err.message).toMatch(/pipe is a FIFO; only regular files/);
    // Excluding it is the way out.
    expect(Object.keys((await scanSource(dir, { exclude: ["pipe"] })).manifest)).toEqual(["ok.json"]);
  });

  test("a symlink loop is refused by name", async () => {
    await fs.mkdir(path.join(dir, "a"));
    await fs.symlink(dir, path.join(dir, "a", "back"));
    const err = await scanSource(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.message).toMatch(/a\/back is a symlink loop/);
  });

  test("a symlink pointing outside the source needs followSymlinks: any", async () => {
    const outside = await mkTmp();
    await writeTree(outside, { "secret.txt": "outside" });
    await writeTree(dir, { "in.json": "1" });
    await fs.symlink(path.join(outside, "secret.txt"), path.join(dir, "link.txt"));
    const err = await scanSource(dir).catch((e) => e);
    expect(err.message).toMatch(/link\.txt is a symlink to .*outside the source; set followSymlinks: "any"/);
    const allowed = await scanSource(dir, { followSymlinks: "any" });
    expect(allowed.manifest["link.txt"].sha256).toBe(sha("outside"));
    await rmTmp(outside);
  });

  test("a source that does not exist says so", async () => {
    await expect(scanSource(path.join(dir, "nope"))).rejects.toThrow(/source: .*nope does not exist/);
  });
});

describe("planChanges", () => {
  const e = (size: number, h: string) => ({ size, sha256: h.repeat(64), mtimeMs: 1 });

  test("uploads new and changed, deletes removed, keeps the rest; mtime alone is no change", () => {
    const prev = { "a": e(1, "a"), "b": e(1, "b"), "c": e(1, "c") };
    const next = { "a": { ...e(1, "a"), mtimeMs: 99 }, "b": e(2, "b"), "d": e(1, "d") };
    expect(planChanges(prev, next)).toEqual({ upload: ["b", "d"], delete: ["c"], unchanged: ["a"] });
    expect(planChanges(undefined, next)).toEqual({ upload: ["a", "b", "d"], delete: [], unchanged: [] });
  });

  test("manifestHash ignores mtimes and order", () => {
    expect(manifestHash({ x: e(1, "a"), y: e(2, "b") })).toBe(manifestHash({ y: { ...e(2, "b"), mtimeMs: 5 }, x: e(1, "a") }));
    expect(manifestHash({ x: e(1, "a") })).not.toBe(manifestHash({ x: e(1, "b") }));
  });
});

describe("stage paths and keys", () => {
  test.each([
    [undefined, ""],
    ["", ""],
    ["data", "data/"],
    ["data/", "data/"],
    ["a/b/c/", "a/b/c/"],
  ])("normalizeStagePath(%j) = %j", (input, out) => expect(normalizeStagePath(input)).toBe(out));

  test.each([["../up"], ["/abs"], ["a\\b"], ["a//b"], ["a/./b"], ["bad\u0001"]])("normalizeStagePath(%j) is refused on field path", (input) => {
    expect(() => normalizeStagePath(input)).toThrow(ZillizValidationError);
    expect(() => normalizeStagePath(input)).toThrow(/^path: /);
  });

  test("an object key longer than S3 allows is refused with the file's name", () => {
    expect(() => objectKey("stages/p/s/", "data/", "x".repeat(1100))).toThrow(/above S3's 1024/);
  });
});
