// Scanning real files in temp dirs: what goes into the manifest, what is
// refused, what the cache saves. No network.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readdirSync, readlinkSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { hashFiles, hashListing, identitiesOf, listSource, manifestSchema, scanSource } from "../../provider/upload";
import { ZillizValidationError } from "../../provider/errors";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

async function refusal(promise: Promise<unknown>): Promise<ZillizValidationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ZillizValidationError);
  return err as ZillizValidationError;
}

describe("scanSource", () => {
  let dir: string;
  const extra: string[] = [];
  beforeEach(async () => {
    dir = await mkTmp();
  });
  afterEach(async () => {
    await rmTmp(dir);
    for (const d of extra.splice(0)) await rmTmp(d);
  });

  test("nested directories, unicode names, an empty file; empty directories produce nothing", async () => {
    await writeTree(dir, {
      "a.json": "A",
      "données/ü.parquet": "PARQUET",
      "deep/x/y/z.npy": "Z",
      "empty.json": "",
      "emoji 🚀/🦄.json": "R",
    });
    await fs.mkdir(path.join(dir, "nothing", "here"), { recursive: true });
    const { manifest, root, stats, unmatchedPatterns } = await scanSource(dir);
    expect(root).toBe(path.resolve(dir));
    expect(Object.keys(manifest)).toEqual(["a.json", "deep/x/y/z.npy", "données/ü.parquet", "emoji 🚀/🦄.json", "empty.json"]);
    expect(manifest["empty.json"]).toMatchObject({ size: 0, sha256: sha("") });
    expect(manifest["données/ü.parquet"]).toMatchObject({ size: 7, sha256: sha("PARQUET") });
    expect(manifest["emoji 🚀/🦄.json"]).toMatchObject({ size: 1, sha256: sha("R") });
    const st = await fs.stat(path.join(dir, "deep/x/y/z.npy"));
    expect(manifest["deep/x/y/z.npy"].mtimeMs).toBe(st.mtimeMs);
    expect(stats).toEqual({ files: 5, bytes: 10, hashedFiles: 5, hashedBytes: 10, reusedFiles: 0 });
    expect(unmatchedPatterns).toEqual([]);
    // Plain JSON, as Pulumi state needs it, and valid by the schema.
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
    expect(manifestSchema.parse(manifest)).toEqual(manifest);
  });

  test("identitiesOf finds each listed file as the listing saw it, and nothing else", async () => {
    const names = ["a.json", "B.json", "données/ü.parquet", "emoji 🚀/🦄.json", "x/a b.json", "x/a.json", "x/a-b.json", "~.json"];
    await writeTree(dir, Object.fromEntries(names.map((n) => [n, n])));
    const listing = await listSource(dir);
    const identities = identitiesOf(listing);
    for (const f of listing.files) expect(identities.get(f.rel)).toBe(f.identity);
    for (const absent of ["", "a", "x/", "x/a.jsonx", "zz", "données"]) expect(identities.get(absent)).toBeUndefined();
    expect(listing.files.map((f) => f.rel).sort()).toEqual([...names].sort());
  });

  test("a single file source maps to its base name, relative to its directory", async () => {
    await writeTree(dir, { "sub/only.parquet": "P", "sub/other.json": "O" });
    const { manifest, root } = await scanSource(path.join(dir, "sub", "only.parquet"));
    expect(Object.keys(manifest)).toEqual(["only.parquet"]);
    expect(manifest["only.parquet"].sha256).toBe(sha("P"));
    expect(root).toBe(path.join(path.resolve(dir), "sub"));
  });

  test("a 10 MB file hashes like crypto does", async () => {
    const big = randomBytes(10 * 1024 * 1024);
    await writeTree(dir, { "big.bin": big });
    const { manifest, stats } = await scanSource(dir, { hashConcurrency: 2 });
    expect(manifest["big.bin"]).toMatchObject({ size: big.length, sha256: sha(big) });
    expect(stats.hashedBytes).toBe(big.length);
  });

  test("many small files are hashed in batches on several workers, each correctly", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 700; i++) files[`d${i % 7}/f${i}.bin`] = randomBytes(i % 13 === 0 ? 0 : 100 + i);
    await writeTree(dir, files);
    const { manifest, stats } = await scanSource(dir, { hashConcurrency: 3 });
    expect(stats.files).toBe(700);
    for (const [rel, content] of Object.entries(files)) expect(manifest[rel]).toMatchObject({ size: content.length, sha256: sha(content) });
    // Sorted keys, whatever the walk order.
    const keys = Object.keys(manifest);
    expect(keys).toEqual([...keys].sort());
  });

  test("the calling thread's event loop turns while it hashes, within a large file and between small ones (a worker's next batch waits for a turn: the bench checks both cores are used)", async () => {
    await writeTree(dir, { "empty.bin": "", "large.bin": randomBytes(6 * 1024 * 1024) });
    /** Event-loop ticks while `hashFiles` runs on this thread alone (concurrency 1). */
    const ticksDuring = async (jobs: { path: string; size: number }[]) => {
      let ticks = 0;
      let counting = true;
      const count = () => {
        ticks++;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const results = await hashFiles(jobs, 1);
      counting = false;
      return { ticks, results };
    };
    // 3,000 empty files (no chunk read at all): the opens alone take well over the 1 ms between two turns.
    const small = await ticksDuring(Array.from({ length: 3000 }, () => ({ path: path.join(dir, "empty.bin"), size: 0 })));
    expect(small.results.every((r) => r.sha256 === sha("") && r.size === 0)).toBe(true);
    expect(small.ticks).toBeGreaterThan(2);
    // One 6 MiB file: six chunks, a few milliseconds of hashing (a turn only every 8 MiB gave none).
    const large = await ticksDuring([{ path: path.join(dir, "large.bin"), size: 6 * 1024 * 1024 }]);
    expect(large.results[0].size).toBe(6 * 1024 * 1024);
    expect(large.ticks).toBeGreaterThan(0);
  });

  test("a file a worker cannot read stops this thread's large file at its next turn: the scan fails without reading the rest", async () => {
    const large = path.join(dir, "large.bin");
    // Sparse: 256 MiB to hash (over 100 ms here), nothing on disk.
    await fs.writeFile(large, "");
    await fs.truncate(large, 256 * 1024 * 1024);
    const open = () => readdirSync("/proc/self/fd").some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === large;
      } catch {
        return false;
      }
    });
    // This thread takes the large file, the worker the missing one, and fails at once.
    const jobs = [{ path: large, size: 256 * 1024 * 1024 }, { path: path.join(dir, "gone.bin"), size: 1 }];
    await expect(hashFiles(jobs, 2)).rejects.toThrow(/gone\.bin/);
    // The failure arrived at one of this thread's turns; the turn after it closes the file.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(open()).toBe(false);
  });

  test.each([1, 2])("a file replaced after it was listed, by another file or by a directory, is refused by name and not hashed (%i thread(s))", async (threads) => {
    // 1 MiB each, so 16 to a batch: with two threads this one takes f00 to f15 and the worker f16 to f31 first.
    const tree: Record<string, string> = {};
    for (let i = 0; i < 40; i++) tree[`f${String(i).padStart(2, "0")}.txt`] = "x".repeat(1024 * 1024);
    await writeTree(dir, tree);
    const replaced = threads === 1 ? "f00.txt" : "f20.txt";
    const listing = await listSource(dir);
    // Same name, same content, another file (inode): not what was listed.
    await fs.writeFile(path.join(dir, "new"), tree[replaced]);
    await fs.rename(path.join(dir, "new"), path.join(dir, replaced));
    const err = await refusal(hashListing(listing, { hashConcurrency: threads }));
    expect(err.message).toMatch(new RegExp(`${replaced} changed after the source was listed: it is now another file than the one listed \\(it was replaced\\)`));
    const again = await listSource(dir);
    await fs.rm(path.join(dir, replaced));
    await fs.mkdir(path.join(dir, replaced));
    expect((await refusal(hashListing(again, { hashConcurrency: threads }))).message).toMatch(new RegExp(`${replaced} is not a regular file`));
  });

  test("hashFiles reports the file it could not read", async () => {
    await writeTree(dir, { "a.bin": "a" });
    const jobs = Array.from({ length: 40 }, (_, i) => ({ path: path.join(dir, i === 33 ? "gone.bin" : "a.bin"), size: 1 }));
    await expect(hashFiles(jobs, 2)).rejects.toThrow(/gone\.bin/);
    await expect(hashFiles(jobs.slice(30, 35), 2)).rejects.toThrow(/gone\.bin/);
  });

  test("include/exclude globs on the relative path; exclude wins; unmatched patterns are reported", async () => {
    await writeTree(dir, { "a.parquet": "1", "b.json": "2", "tmp/c.parquet": "3", ".hidden.parquet": "4", "keep/tmp.parquet": "5" });
    const r = await scanSource(dir, { include: ["**/*.parquet", "*.csv"], exclude: ["tmp/**", "*.bak"] });
    expect(Object.keys(r.manifest)).toEqual([".hidden.parquet", "a.parquet", "keep/tmp.parquet"]);
    expect(r.unmatchedPatterns).toEqual(["*.csv", "*.bak"]);
    const onlyExclude = await scanSource(dir, { exclude: ["**/*.parquet"] });
    expect(Object.keys(onlyExclude.manifest)).toEqual(["b.json"]);
  });

  test("an excluded directory is not walked: what is inside cannot fail the scan", async () => {
    await writeTree(dir, { "ok.json": "1", "venv/lib/x.py": "x" });
    const outside = await mkTmp();
    extra.push(outside);
    await fs.symlink(outside, path.join(dir, "venv", "outside-link"));
    execFileSync("mkfifo", [path.join(dir, "venv", "pipe")]);
    await fs.symlink(dir, path.join(dir, "venv", "loop"));
    expect((await refusal(scanSource(dir))).message).toMatch(/venv/);
    const r = await scanSource(dir, { exclude: ["venv/**"] });
    expect(Object.keys(r.manifest)).toEqual(["ok.json"]);
    expect(r.unmatchedPatterns).toEqual([]);
  });

  test("the previous manifest is a cache: same size and mtime, no read (a poisoned hash survives); forceRehash reads", async () => {
    await writeTree(dir, { "a.json": "A", "b.json": "B" });
    const first = await scanSource(dir);
    const poisoned = { ...first.manifest, "a.json": { ...first.manifest["a.json"], sha256: "0".repeat(64) } };
    const second = await scanSource(dir, { cache: poisoned });
    expect(second.manifest["a.json"].sha256).toBe("0".repeat(64));
    expect(second.manifest["b.json"]).toEqual(first.manifest["b.json"]);
    expect(second.stats).toMatchObject({ files: 2, hashedFiles: 0, hashedBytes: 0, reusedFiles: 2 });

    const forced = await scanSource(dir, { cache: poisoned, forceRehash: true });
    expect(forced.manifest["a.json"].sha256).toBe(sha("A"));
    expect(forced.stats).toMatchObject({ hashedFiles: 2, reusedFiles: 0 });

    // A different mtime (same size) means a read.
    const later = new Date(Date.now() + 5000);
    await fs.utimes(path.join(dir, "b.json"), later, later);
    const third = await scanSource(dir, { cache: first.manifest });
    expect(third.stats).toMatchObject({ hashedFiles: 1, reusedFiles: 1 });
    expect(third.manifest["b.json"].mtimeMs).toBe((await fs.stat(path.join(dir, "b.json"))).mtimeMs);

    // A different size (mtime forced back to the cached one) means a read too.
    await fs.writeFile(path.join(dir, "a.json"), "AA");
    const t = new Date(first.manifest["a.json"].mtimeMs);
    await fs.utimes(path.join(dir, "a.json"), t, t);
    const fourth = await scanSource(dir, { cache: poisoned });
    expect(fourth.manifest["a.json"]).toMatchObject({ size: 2, sha256: sha("AA") });

    // A cache entry that is not a manifest entry is not trusted.
    const broken = { "a.json": { ...fourth.manifest["a.json"], sha256: "not a hash" } };
    expect((await scanSource(dir, { cache: broken })).manifest["a.json"].sha256).toBe(sha("AA"));
  });

  test("a FIFO is refused by name, without hanging; excluding it is the way out", async () => {
    await writeTree(dir, { "ok.json": "1" });
    execFileSync("mkfifo", [path.join(dir, "pipe")]);
    const err = await refusal(scanSource(dir));
    expect(err.field).toBe("source");
    expect(err.message).toMatch(/pipe is a FIFO; only regular files can be uploaded/);
    expect(Object.keys((await scanSource(dir, { exclude: ["pipe"] })).manifest)).toEqual(["ok.json"]);
    // Given directly, or through a symlink.
    expect((await refusal(scanSource(path.join(dir, "pipe")))).message).toMatch(/pipe is a FIFO/);
    await fs.symlink(path.join(dir, "pipe"), path.join(dir, "to-pipe"));
    expect((await refusal(scanSource(dir, { exclude: ["pipe"] }))).message).toMatch(/to-pipe is a FIFO/);
  }, 10_000);

  test("a socket is refused by name", async () => {
    const sock = path.join(dir, "s.sock");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      expect((await refusal(scanSource(dir))).message).toMatch(/s\.sock is a socket; only regular files/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a symlink loop is refused by name", async () => {
    await writeTree(dir, { "a/file.json": "1" });
    await fs.symlink(dir, path.join(dir, "a", "back"));
    const err = await refusal(scanSource(dir));
    expect(err.message).toMatch(/a\/back is a symlink loop/);
    // A link to itself.
    await fs.rm(path.join(dir, "a", "back"));
    await fs.symlink(path.join(dir, "self"), path.join(dir, "self"));
    expect((await refusal(scanSource(dir))).message).toMatch(/self is a symlink loop/);
  });

  test("symlinks inside the source are followed", async () => {
    await writeTree(dir, { "real/x.json": "X", "y.json": "Y" });
    await fs.symlink(path.join(dir, "real"), path.join(dir, "alias"));
    await fs.symlink(path.join(dir, "y.json"), path.join(dir, "y-link.json"));
    const { manifest } = await scanSource(dir);
    expect(Object.keys(manifest)).toEqual(["alias/x.json", "real/x.json", "y-link.json", "y.json"]);
    expect(manifest["alias/x.json"].sha256).toBe(sha("X"));
    expect(manifest["y-link.json"].sha256).toBe(sha("Y"));
  });

  test("a symlink pointing outside the source is refused unless followSymlinks is any (or it is excluded)", async () => {
    const outside = await mkTmp();
    extra.push(outside);
    await writeTree(outside, { "secret.txt": "outside", "d/inner.txt": "inner" });
    await writeTree(dir, { "in.json": "1" });
    await fs.symlink(path.join(outside, "secret.txt"), path.join(dir, "link.txt"));
    await fs.symlink(path.join(outside, "d"), path.join(dir, "dirlink"));
    const err = await refusal(scanSource(dir));
    expect(err.message).toMatch(/(link\.txt|dirlink) is a symlink to .*, outside the source; set followSymlinks: "any"/);
    const allowed = await scanSource(dir, { followSymlinks: "any" });
    expect(Object.keys(allowed.manifest)).toEqual(["dirlink/inner.txt", "in.json", "link.txt"]);
    expect(allowed.manifest["link.txt"].sha256).toBe(sha("outside"));
    const excluded = await scanSource(dir, { exclude: ["link.txt", "dirlink/**"] });
    expect(Object.keys(excluded.manifest)).toEqual(["in.json"]);
  });

  test("a dangling symlink is refused by name unless excluded", async () => {
    await writeTree(dir, { "in.json": "1" });
    await fs.symlink(path.join(dir, "nowhere"), path.join(dir, "dangling"));
    expect((await refusal(scanSource(dir))).message).toMatch(/dangling is a symlink to nothing/);
    expect(Object.keys((await scanSource(dir, { exclude: ["dangling"] })).manifest)).toEqual(["in.json"]);
  });

  test("a source that does not exist says so on field source", async () => {
    const err = await refusal(scanSource(path.join(dir, "nope")));
    expect(err.field).toBe("source");
    expect(err.message).toMatch(/nope does not exist/);
  });

  test("an empty directory is an empty manifest", async () => {
    const r = await scanSource(dir);
    expect(r.manifest).toEqual({});
    expect(r.stats).toEqual({ files: 0, bytes: 0, hashedFiles: 0, hashedBytes: 0, reusedFiles: 0 });
  });
});
