// What a user can do to a file resource that would lose or leak a file, each
// refused or said out loud: an empty source, a file swapped for a symlink
// between check and upload, control characters in names, names S3 listings
// encode. Real files, the real emulator, and its own record of what arrived.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { Emulator } from "../../provider/emulator";
import { ZillizFileChangedError, ZillizValidationError } from "../../provider/errors";
import { StageClient } from "../../provider/client";
import { executeUpload, hashListing, identitiesOf, listSource, manifestPaths } from "../../provider/upload";
import { providerOnEmulator } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { objectsUnder } from "../helpers/stage";

const PREFIX = "stages/proj-1/raw/";
const SECRET = "outside the source: must never be uploaded";

describe("StagedFiles: nothing is lost or leaked", () => {
  let emu: Emulator;
  let dir: string;
  let outside: string;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  let said: string[];

  /** What the stage holds, relative to the stage: path -> bytes as text. */
  const staged = () => objectsUnder(emu, PREFIX);

  async function checked(args: Record<string, unknown>): Promise<any> {
    const res = await provider.check({}, { stageName: "raw", source: dir, ...args });
    expect(res.failures).toEqual([]);
    return res.inputs;
  }

  beforeEach(async () => {
    ({ emu, provider, said, close } = await providerOnEmulator("stagedFiles", { stage: { projectId: "proj-1", stageName: "raw" } }));
    dir = await mkTmp();
    outside = await mkTmp("zstages-outside-");
    await writeTree(outside, { "secret.json": SECRET });
  });
  afterEach(async () => {
    await close();
    await rmTmp(dir);
    await rmTmp(outside);
  });

  describe("empty source", () => {
    test("an empty directory is refused at check on source, naming allowEmpty; allowEmpty: true accepts it", async () => {
      const { failures } = await provider.check({}, { stageName: "raw", source: dir });
      expect(failures).toEqual([{ property: "source", reason: expect.stringMatching(/yields no file \(an empty directory\).*remove every file.*allowEmpty: true/) }]);
      const inputs = await checked({ allowEmpty: true });
      const { outs } = await provider.create(inputs);
      expect(outs.fileCount).toBe(0);
    });

    test("include/exclude that drop every file are refused the same way, naming them", async () => {
      await writeTree(dir, { "a.json": "a", "b.json": "b" });
      emu.clearRequests();
      const { failures } = await provider.check({}, { stageName: "raw", source: dir, exclude: ["*.json"] });
      expect(failures).toEqual([{ property: "source", reason: expect.stringMatching(/yields no file after include and exclude.*fix source, include or exclude, or set allowEmpty: true/) }]);
      expect(emu.requests()).toEqual([]);
    });

    test("an update that removes every file says so first, loudly; with allowEmpty it then empties the path", async () => {
      await writeTree(dir, { "a.json": "a", "b.json": "b" });
      const created = await provider.create(await checked({}));
      expect(Object.keys(await staged()).sort()).toEqual(["a.json", "b.json"]);
      await fs.rm(path.join(dir, "a.json"));
      await fs.rm(path.join(dir, "b.json"));

      // Without allowEmpty, the update is refused before anything is removed.
      expect((await provider.check({}, { stageName: "raw", source: dir })).failures).toHaveLength(1);

      const news = await checked({ allowEmpty: true });
      said.length = 0;
      const diff = await provider.diff(created.id, created.outs, news);
      expect(diff.changes).toBe(true);
      expect(said[0]).toBe(
        "WARNING: this update removes all 2 files that StagedFiles raw/ holds and uploads none (the source yields no file); check source, include and exclude before you apply it",
      );
      expect(said[1]).toMatch(/^StagedFiles raw\/: 0 added, 0 changed, 2 removed/);
      await provider.update(created.id, created.outs, news);
      expect(await staged()).toEqual({});
    });

    test("a source emptied between check and create is refused by create too", async () => {
      await writeTree(dir, { "a.json": "a" });
      const inputs = await checked({});
      await fs.rm(path.join(dir, "a.json"));
      const err = await provider.create({ ...inputs, sourceFingerprint: undefined }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizValidationError);
      expect((err as Error).message).toMatch(/yields no file.*allowEmpty: true/);
      expect(emu.listObjects(PREFIX)).toEqual([]);
    });
  });

  describe("a file swapped for a symlink after it was listed", () => {
    test("between check and create (hashing): refused, naming the file; nothing from outside reaches the stage", async () => {
      await writeTree(dir, { "a.json": "a", "b.json": "bb" });
      const inputs = await checked({});
      await fs.rm(path.join(dir, "b.json"));
      await fs.symlink(path.join(outside, "secret.json"), path.join(dir, "b.json"));
      const err = await provider.create(inputs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizValidationError);
      expect((err as Error).message).toMatch(/b\.json changed after the source was listed: it is now a symlink where a regular file was listed \(not followed\); nothing was read from it/);
      expect(Object.values(await staged())).not.toContain(SECRET);
      expect(emu.listObjects(PREFIX)).toEqual([]);
    });

    test("between diff (hashed) and update (upload): the open refuses it; nothing from outside reaches the stage", async () => {
      // Same size as the secret, so that only the identity check can tell.
      await writeTree(dir, { "a.json": "a" });
      const created = await provider.create(await checked({}));
      await writeTree(dir, { "b.json": "x".repeat(SECRET.length) });
      const news = await checked({});
      expect((await provider.diff(created.id, created.outs, news)).changes).toBe(true);
      await fs.rm(path.join(dir, "b.json"));
      await fs.symlink(path.join(outside, "secret.json"), path.join(dir, "b.json"));
      const err = (await provider.update(created.id, created.outs, news).catch((e: unknown) => e)) as Error;
      const causes: unknown[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause) causes.push(e);
      expect(causes.some((e) => e instanceof ZillizFileChangedError)).toBe(true);
      expect(err.message).toMatch(/b\.json changed since it was scanned.*a symlink where a regular file was listed; it was not followed/);
      expect(await staged()).toEqual({ "a.json": "a" });
    });

    // Up to 32 small files are hashed inline, more on worker threads: each has its own copy of the checks.
    const hashing = [
      ["inline", {}],
      ["on the workers", Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`fill/f${String(i).padStart(2, "0")}.json`, `file ${i}`]))],
    ] as const;

    test.each(hashing)("hashing %s: a file replaced by another one (a rename over it) is refused: the listed device and inode do not match", async (_, fill) => {
      await writeTree(dir, { ...fill, "a.json": "same size!" });
      const listing = await listSource(dir);
      await writeTree(outside, { "other.json": "SAME SIZE!" });
      await fs.copyFile(path.join(outside, "other.json"), path.join(dir, "a.json.tmp"));
      await fs.rename(path.join(dir, "a.json.tmp"), path.join(dir, "a.json"));
      await expect(hashListing(listing, { hashConcurrency: 2 })).rejects.toThrow(/a\.json changed after the source was listed: it is now another file than the one listed/);
    });

    test.each(hashing)("hashing %s: a followed link (followSymlinks inside) must still land inside the source when opened", async (_, fill) => {
      // The link's target leaves the source after the listing, keeping its
      // inode: only the open-time check of where the link leads can tell.
      await writeTree(dir, { ...fill, "real/t.json": SECRET });
      await fs.symlink(path.join(dir, "real", "t.json"), path.join(dir, "l.json"));
      const listing = await listSource(dir, { exclude: ["real/**"] });
      expect(listing.files.map((f) => f.rel)).toContain("l.json");
      await fs.rename(path.join(dir, "real", "t.json"), path.join(outside, "t.json"));
      await fs.rm(path.join(dir, "l.json"));
      await fs.symlink(path.join(outside, "t.json"), path.join(dir, "l.json"));
      const escaped = outside.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      await expect(hashListing(listing, { hashConcurrency: 2 })).rejects.toThrow(
        new RegExp(`l\\.json changed after the source was listed: it is now a symlink to ${escaped}/t\\.json, outside the source`),
      );
      // followSymlinks: "any" asked for exactly that.
      const anyListing = await listSource(dir, { followSymlinks: "any", exclude: ["real/**"] });
      await expect(hashListing(anyListing, { hashConcurrency: 2 })).resolves.toMatchObject({ stats: { files: listing.files.length } });
    });

    test.each(hashing)("hashing %s: a regular file swapped for a symlink is not followed", async (_, fill) => {
      await writeTree(dir, { ...fill, "b.json": "b" });
      const listing = await listSource(dir);
      await fs.rm(path.join(dir, "b.json"));
      await fs.symlink(path.join(outside, "secret.json"), path.join(dir, "b.json"));
      await expect(hashListing(listing, { hashConcurrency: 2 })).rejects.toThrow(/b\.json changed after the source was listed: it is now a symlink where a regular file was listed/);
    });
    test.each([
      ["a single PUT", 1024],
      ["a multipart upload", 6 * 1024 * 1024],
    ])("%s: a file swapped for a link to an identical file outside is refused at open (only the identity can tell)", async (_, size) => {
      const bytes = Buffer.alloc(size, 7);
      await writeTree(dir, { "big.bin": bytes });
      await writeTree(outside, { "copy.bin": bytes });
      const listing = await listSource(dir);
      const { manifest } = await hashListing(listing);
      await fs.rm(path.join(dir, "big.bin"));
      await fs.symlink(path.join(outside, "copy.bin"), path.join(dir, "big.bin"));
      const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
      try {
        const err = (await executeUpload(
          { stageName: "raw", path: "", root: listing.root, manifest, upload: ["big.bin"], delete: [], identities: identitiesOf(listing) },
          { targets: client, multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 },
        ).catch((e: unknown) => e)) as Error;
        expect(err.message).toMatch(/big\.bin changed since it was scanned.*a symlink where a regular file was listed; it was not followed/);
        expect(emu.listObjects(PREFIX)).toEqual([]);
      } finally {
        await client.close();
      }
    });
  });

  describe("file names", () => {
    test.each([
      ["a carriage return", "bad\rname.json"],
      ["a line feed", "bad\nname.json"],
      ["a tab", "bad\tname.json"],
      ["DEL", "bad\u007fname.json"],
    ])("%s in a file name is refused at check, naming the file and exclude; excluded, it is fine", async (_, name) => {
      await writeTree(dir, { "ok.json": "ok", [`sub/${name}`]: "x" });
      const { failures } = await provider.check({}, { stageName: "raw", source: dir });
      expect(failures).toEqual([{ property: "source", reason: expect.stringContaining(`${JSON.stringify(`sub/${name}`)} contains control characters`) }]);
      expect(failures[0].reason).toMatch(/leave it out with `exclude`/);
      await checked({ exclude: ["sub/**"] });
    });

    test("names that S3 listings encode (space, +, %) survive a refresh: listings ask for URL-encoded keys", async () => {
      const names = ["a b.json", "a+b.json", "100%.json", "é.json", "x%2By.json"];
      await writeTree(dir, Object.fromEntries(names.map((n) => [n, n])));
      const created = await provider.create(await checked({}));
      emu.clearRequests();
      const read = await provider.read(created.id, created.outs);
      expect(manifestPaths(read.props.manifest)).toEqual([...names].sort());
      expect(read.props).toEqual(created.outs);
      const lists = emu.requests().filter((r) => r.kind === "s3:list");
      expect(lists.length).toBeGreaterThan(0);
    });
  });

  test("check refuses path rules of the newest SDK and keeps one message per property", async () => {
    await writeTree(dir, { "a.json": "a" });
    const failures = async (args: Record<string, unknown>) => (await provider.check({}, { stageName: "raw", source: dir, ...args })).failures;
    expect(await failures({ path: "  " })).toEqual([{ property: "path", reason: expect.stringMatching(/" {2}" is blank/) }]);
    expect(await failures({ path: "data /x" })).toEqual([{ property: "path", reason: expect.stringMatching(/leading or trailing spaces/) }]);
    expect(await failures({ path: "a/../b" })).toEqual([{ property: "path", reason: expect.stringMatching(/"\.\." segment/) }]);
    // A number is one failure on path, not a type error and a path rule.
    expect(await failures({ path: 42 })).toEqual([{ property: "path", reason: "path must be a string" }]);
    expect((await checked({ path: "a//b/./c" })).path).toBe("a/b/c/");
  });


  test("forceRehash reads the files again even when another resource of this process just scanned the same source from its cache", async () => {
    await writeTree(dir, { "a.json": "one" });
    const file = path.join(dir, "a.json");
    // A whole second, so that putting it back is exact.
    await fs.utimes(file, 1_700_000_000, 1_700_000_000);
    const created = await provider.create(await checked({}));
    // Same size, same mtime, other bytes: only a re-read can tell.
    await fs.writeFile(file, "two");
    await fs.utimes(file, 1_700_000_000, 1_700_000_000);

    // Both checked (the engine checks every resource first), then diffed.
    const trusting = await checked({});
    const rereading = await checked({ forceRehash: true });
    // One resource trusts its cache (size and mtime match): no change.
    expect((await provider.diff(created.id, created.outs, trusting)).changes).toBe(false);
    // The other asked for a re-read: it must not be handed that cached scan.
    expect((await provider.diff(created.id, created.outs, rereading)).changes).toBe(true);
  });
});
