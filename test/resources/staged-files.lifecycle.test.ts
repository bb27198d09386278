// The StagedFiles provider against the emulator: every step of a resource's
// life, with real files and the emulator's own record of what arrived.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import type { Emulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import { ProviderContext } from "../../provider/resources/provider-context";
import { decodeManifest, manifestPaths } from "../../provider/upload";
import { configuredProvider, providerOnEmulator, serviceConfig } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { objectsUnder } from "../helpers/stage";

const PREFIX = "stages/proj-1/raw/";

describe("StagedFiles provider", () => {
  let emu: Emulator;
  let dir: string;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  /** What the provider told the user (stderr under the engine). */
  let said: string[];

  /** What the stage holds, relative to the stage: path -> bytes as text. */
  const staged = () => objectsUnder(emu, PREFIX);

  /** check + diff + create/update, as one `pulumi up` of the resource would do. */
  async function up(olds: Record<string, any> | undefined, args: Record<string, unknown>) {
    const checked = await provider.check(olds?.inputs ?? {}, { stageName: "raw", source: dir, ...args });
    expect(checked.failures).toEqual([]);
    const news = checked.inputs;
    if (!olds) {
      const created = await provider.create(news);
      return { id: created.id, inputs: news, outs: created.outs, diff: undefined as pulumi.dynamic.DiffResult | undefined };
    }
    const diff = await provider.diff(olds.id, olds.outs, news);
    if (!diff.changes) return { ...olds, inputs: news, diff };
    if (diff.replaces?.length) {
      await provider.delete(olds.id, olds.outs);
      const created = await provider.create(news);
      return { id: created.id, inputs: news, outs: created.outs, diff };
    }
    const updated = await provider.update(olds.id, olds.outs, news);
    return { id: olds.id, inputs: news, outs: updated.outs, diff };
  }

  beforeEach(async () => {
    ({ emu, provider, said, close } = await providerOnEmulator("stagedFiles", { stage: { projectId: "proj-1", stageName: "raw" } }));
    dir = await mkTmp();
  });
  afterEach(async () => {
    await close();
    await rmTmp(dir);
  });

  test("create, no-op, change one + add one + remove one, change path, delete", async () => {
    await writeTree(dir, { "1.json": "one", "2.json": "two", "sub/3.json": "three" });
    let state = await up(undefined, { path: "data" });
    expect(state.id).toBe("raw/data/");
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two", "data/sub/3.json": "three" });
    expect(state.outs).toMatchObject({ path: "data/", fileCount: 3, totalBytes: 11, retained: [] });
    expect(manifestPaths(state.outs.manifest)).toEqual(["1.json", "2.json", "sub/3.json"]);
    expect(decodeManifest(state.outs.manifest)["sub/3.json"]).toMatchObject({ size: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(state.outs.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    // One copy of the file list: the checked inputs carry only a fingerprint of the listing.
    expect(Object.keys(state.inputs).sort()).toEqual(["path", "source", "sourceFingerprint", "stageName"]);
    expect(Object.keys(state.outs)).not.toEqual(expect.arrayContaining(["files"]));

    // No-op: nothing to do, nothing sent, nothing said.
    emu.clearRequests();
    said.length = 0;
    state = await up(state, { path: "data/" });
    expect(state.diff).toMatchObject({ changes: false });
    expect(emu.requests().filter((r) => r.kind.startsWith("s3:"))).toEqual([]);
    expect(said).toEqual([]);

    // Change one, add one, remove one.
    await writeTree(dir, { "1.json": "one, changed", "4.json": "four" });
    await fs.rm(path.join(dir, "2.json"));
    emu.clearRequests();
    said.length = 0;
    state = await up(state, { path: "data/" });
    expect(state.diff).toMatchObject({ changes: true, replaces: [] });
    // diff told the user which files change, with their sizes.
    expect(said).toEqual([
      "StagedFiles raw/data/: 1 added, 1 changed, 1 removed (16 B to upload); 1 file unchanged",
      "  ~ data/1.json (12 B, was 3 B)",
      "  - data/2.json (3 B)",
      "  + data/4.json (4 B)",
    ]);
    const puts = emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.key);
    expect(puts.sort()).toEqual([`${PREFIX}data/1.json`, `${PREFIX}data/4.json`]);
    expect(await staged()).toEqual({ "data/1.json": "one, changed", "data/4.json": "four", "data/sub/3.json": "three" });
    expect(state.outs.fileCount).toBe(3);

    // Change path: a replacement; nothing is left at the old path.
    state = await up(state, { path: "moved/" });
    expect(state.diff).toMatchObject({ replaces: ["path"], deleteBeforeReplace: true });
    expect(await staged()).toEqual({ "moved/1.json": "one, changed", "moved/4.json": "four", "moved/sub/3.json": "three" });

    await provider.delete(state.id, state.outs);
    expect(await staged()).toEqual({});
  });

  test("refresh finds a file deleted out of band and the next up puts it back", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    let state = await up(undefined, {});
    const victim = emu.listObjects(PREFIX).find((o) => o.key.endsWith("b.json"))!;
    // Out of band: remove the object with the stage's own credentials.
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    const { s3, target } = await stageS3(client, "raw");
    await client.close();
    await s3.send(new DeleteObjectCommand({ Bucket: target.bucketName, Key: victim.key }));
    s3.destroy();

    const read = await provider.read(state.id, state.outs);
    expect(manifestPaths(read.props.manifest)).toEqual(["a.json"]);
    expect(read.props.fileCount).toBe(1);
    state = { ...state, outs: read.props };
    state = await up(state, {});
    expect(state.diff).toMatchObject({ changes: true });
    expect(await staged()).toEqual({ "a.json": "a", "b.json": "b" });
  });

  test("refresh after the stage is deleted drops the resource", async () => {
    await writeTree(dir, { "a.json": "a" });
    const state = await up(undefined, {});
    await fetch(`${emu.url}/v2/stages/raw`, { method: "DELETE", headers: { Authorization: `Bearer ${emu.apiKey}` } });
    expect(await provider.read(state.id, state.outs)).toEqual({});
    // And destroying it then is not an error.
    await provider.delete(state.id, state.outs);
  });

  test("deleteRemoved: false keeps removed files until destroy", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    let state = await up(undefined, { deleteRemoved: false });
    await fs.rm(path.join(dir, "b.json"));
    state = await up(state, { deleteRemoved: false });
    expect(await staged()).toEqual({ "a.json": "a", "b.json": "b" });
    expect(manifestPaths(state.outs.manifest)).toEqual(["a.json"]);
    expect(state.outs.retained).toEqual(["b.json"]);
    await provider.delete(state.id, state.outs);
    expect(await staged()).toEqual({});
  });

  describe("deleteRemoved back to true removes the files it kept", () => {
    /** A state keeping b.json and c.json (deleted locally while deleteRemoved was false). */
    async function keeping() {
      await writeTree(dir, { "a.json": "a", "b.json": "b", "c.json": "c" });
      let state = await up(undefined, { deleteRemoved: false });
      await fs.rm(path.join(dir, "b.json"));
      await fs.rm(path.join(dir, "c.json"));
      state = await up(state, { deleteRemoved: false });
      expect(state.outs.retained).toEqual(["b.json", "c.json"]);
      expect(await staged()).toEqual({ "a.json": "a", "b.json": "b", "c.json": "c" });
      return state;
    }

    test.each([
      ["set to true", { deleteRemoved: true }],
      ["left out (the default is true)", {}],
    ])("%s: the next up removes them and the state keeps none", async (_name, args) => {
      let state = await keeping();
      // Nothing changed on disk: the setting alone is a change.
      state = await up(state, args);
      expect(state.diff).toMatchObject({ changes: true, replaces: [] });
      expect(await staged()).toEqual({ "a.json": "a" });
      expect(state.outs.retained).toEqual([]);
      expect(manifestPaths(state.outs.manifest)).toEqual(["a.json"]);
      // And the run after that has nothing left to do.
      state = await up(state, args);
      expect(state.diff).toMatchObject({ changes: false });
    });

    test("a kept file that is back on disk is uploaded, not removed", async () => {
      let state = await keeping();
      await writeTree(dir, { "b.json": "b again" });
      state = await up(state, { deleteRemoved: true });
      expect(await staged()).toEqual({ "a.json": "a", "b.json": "b again" });
      expect(state.outs.retained).toEqual([]);
      expect(manifestPaths(state.outs.manifest)).toEqual(["a.json", "b.json"]);
    });

    test("kept files in a state that already says deleteRemoved: true (an update that failed midway) are removed by the next up", async () => {
      const state = await keeping();
      const olds = { ...state, inputs: { ...state.inputs, deleteRemoved: true }, outs: { ...state.outs, deleteRemoved: true } };
      const next = await up(olds, { deleteRemoved: true });
      expect(next.diff).toMatchObject({ changes: true });
      expect(await staged()).toEqual({ "a.json": "a" });
      expect(next.outs.retained).toEqual([]);
    });
  });

  test("a failure midway records what arrived; the rerun sends only the rest", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.json`] = `file ${i}`;
    await writeTree(dir, files);
    const checked = await provider.check({}, { stageName: "raw", source: dir, concurrency: 1 });
    // The engine always sends the serialized provider along; a partial failure must keep it.
    checked.inputs.__provider = "the serialized provider";
    // Two uploads succeed, then every put fails (more than the retry budget).
    emu.faults.add({ target: "s3:put", skip: 2, count: 1000, status: 503 });
    const error = (await provider.create(checked.inputs).catch((e) => e)) as Error & { id?: string; properties?: any };
    emu.faults.clear();
    expect(error.message).toMatch(/f2\.json|503|SlowDown|ServiceUnavailable/);
    expect(error.message).toMatch(/run again|rerun/i);
    expect(error.id).toBe("raw/");
    expect(error.properties.__provider).toBe("the serialized provider");
    const arrived = manifestPaths(error.properties.manifest);
    expect(arrived).toHaveLength(2);
    expect(Object.keys(await staged()).sort()).toEqual(arrived.sort());

    emu.clearRequests();
    const diff = await provider.diff(error.id!, error.properties, checked.inputs);
    expect(diff.changes).toBe(true);
    const updated = await provider.update(error.id!, error.properties, checked.inputs);
    const puts = emu.requests().filter((r) => r.kind === "s3:put");
    expect(puts).toHaveLength(4);
    expect(updated.outs.fileCount).toBe(6);
    expect(Object.keys(await staged())).toHaveLength(6);
  });

  test("a new connection is an update, never a replacement; the state follows it and nothing is re-sent", async () => {
    await writeTree(dir, { "a.json": "a" });
    const first = { endpoint: emu.url, apiKey: emu.apiKey };
    let state = await up(undefined, { connection: first });
    expect(state.outs.connection).toEqual(first);
    emu.clearRequests();
    const moved = { endpoint: emu.url.replace("127.0.0.1", "localhost"), apiKey: emu.apiKey };
    state = await up(state, { connection: moved });
    expect(state.diff).toMatchObject({ changes: true, replaces: [] });
    expect(state.outs.connection).toEqual(moved);
    expect(emu.requests().filter((r) => r.kind.startsWith("s3:"))).toEqual([]);
    // Back to the provider's config: also an update that drops the stored connection.
    state = await up(state, {});
    expect(state.diff).toMatchObject({ changes: true, replaces: [] });
    expect(state.outs.connection).toBeUndefined();
  });

  test("a long upload prints progress: files and bytes done of total, rate, time left", async () => {
    const lines: string[] = [];
    const context = new ProviderContext({}, undefined, { log: (line) => lines.push(line), progressEveryMs: 0 });
    const own = await configuredProvider("stagedFiles", serviceConfig(emu), context);
    try {
      const files: Record<string, string> = {};
      for (let i = 0; i < 4; i++) files[`p${i}.bin`] = "x".repeat(1024);
      await writeTree(dir, files);
      const checked = await own.provider.check({}, { stageName: "raw", source: dir, concurrency: 1 });
      await own.provider.create(checked.inputs);
      // One line after each file but the last (the end needs no progress line).
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^StagedFiles raw\/: uploaded 1 of 4 files, 1\.0 KiB of 4\.0 KiB \(25\.0%\), [\d.]+ (B|KiB|MiB)\/s(, about \d+ s left)?$/);
      expect(lines[2]).toMatch(/uploaded 3 of 4 files, 3\.0 KiB of 4\.0 KiB \(75\.0%\)/);
    } finally {
      await own.close();
    }
  });

  describe("state written by 0.1.0", () => {
    /** Seconds, with a fraction a double cannot hold exactly in milliseconds. */
    const MTIME = 1_700_000_000.123457;
    /**
     * What 0.1.0 stored for a resource over `dir`: the manifest as an object
     * (full-precision mtimes) in both inputs and outputs, `files` and
     * `dataPaths` beside it, no `retained` and no `sourceFingerprint`.
     */
    async function legacyState() {
      await writeTree(dir, { "a.json": "a", "b.json": "bb", "sub/c.json": "ccc" });
      for (const rel of ["a.json", "b.json", "sub/c.json"]) await fs.utimes(path.join(dir, rel), MTIME, MTIME);
      const created = await up(undefined, { path: "old/" });
      const { scanSource } = await import("../../provider/upload");
      const manifest = (await scanSource(dir)).manifest; // exact mtimes, as 0.1.0 recorded them
      const files = Object.keys(manifest).sort().map((rel) => `old/${rel}`);
      const outs: Record<string, unknown> = { ...created.outs };
      delete outs.retained;
      return {
        id: created.id,
        inputs: { stageName: "raw", source: dir, path: "old/", manifest },
        outs: { ...outs, manifest, files, dataPaths: files.map((f) => [f]) } as Record<string, any>,
      };
    }

    test("check drops the old manifest from the inputs; diff sees no change without reading a file", async () => {
      const legacy = await legacyState();
      const checked = await provider.check(legacy.inputs, { stageName: "raw", source: dir, path: "old/" });
      expect(checked.failures).toEqual([]);
      expect(checked.inputs.manifest).toBeUndefined();
      expect(checked.inputs.sourceFingerprint).toMatch(/^[0-9a-f]{64}$/);
      // Same size, same mtime, other bytes: a diff that trusts the old
      // manifest's sizes and mtimes (and reads no file) sees no change.
      await writeTree(dir, { "b.json": "BB" });
      await fs.utimes(path.join(dir, "b.json"), MTIME, MTIME);
      const diff = await provider.diff(legacy.id, legacy.outs, checked.inputs);
      expect(diff).toMatchObject({ changes: false, replaces: [] });
      expect(said).toEqual([]);
    });

    test("read rewrites it in the current form", async () => {
      const legacy = await legacyState();
      const read = await provider.read(legacy.id, legacy.outs);
      expect(typeof read.props.manifest).toBe("string");
      expect(manifestPaths(read.props.manifest)).toEqual(["a.json", "b.json", "sub/c.json"]);
      expect(read.props).not.toHaveProperty("files");
      expect(read.props).not.toHaveProperty("dataPaths");
      expect(read.props).toMatchObject({ fileCount: 3, totalBytes: 6, retained: [], manifestHash: legacy.outs.manifestHash });
    });

    test("an update sends only the changed file and migrates the state", async () => {
      const legacy = await legacyState();
      await writeTree(dir, { "b.json": "changed" });
      emu.clearRequests();
      const state = await up(legacy, { path: "old/" });
      expect(state.diff).toMatchObject({ changes: true, replaces: [] });
      expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.key)).toEqual([`${PREFIX}old/b.json`]);
      expect(typeof state.outs.manifest).toBe("string");
      expect(state.outs).not.toHaveProperty("files");
      expect(decodeManifest(state.outs.manifest)["b.json"].size).toBe(7);
      expect(await staged()).toEqual({ "old/a.json": "a", "old/b.json": "changed", "old/sub/c.json": "ccc" });
    });

    test("delete removes every file it lists", async () => {
      const legacy = await legacyState();
      await provider.delete(legacy.id, legacy.outs);
      expect(await staged()).toEqual({});
    });
  });

  test("bad inputs fail in check and touch nothing", async () => {
    emu.clearRequests();
    const checked = await provider.check({}, { stageName: "raw", source: path.join(dir, "missing"), path: "../up" });
    expect(checked.failures.map((f: { property: string }) => f.property).sort()).toEqual(["path", "source"]);
    expect(checked.failures.find((f: { property: string }) => f.property === "source")!.reason).toMatch(/does not exist/);
    expect(emu.requests()).toEqual([]);
  });
});
