// The providers as the engine runs them: serialized by the SDK's own closure
// serializer, then loaded and called by the SDK's dynamic-provider server in
// a separate process, against the emulator. Needs `npm run build` first
// (npm test does it): the server loads pulumi-zilliz-stages/runtime from dist.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "../../provider/resources/provider-shim";
import type { ProviderKind } from "../../provider/resources/runtime";
import { startEmulator, Emulator } from "../../provider/emulator";
import { manifestPaths } from "../../provider/upload";
import { DynamicProviderServer, initFailure } from "../helpers/dynamic-provider-server";
import type { ProviderKind } from "../../provider/resources/runtime";
import { StageClient } from "../../provider/client";
import { parquet } from "../helpers/data-files";
import { putObjects } from "../helpers/s3";
import { inspectCollection, parquetColumns, untilRows } from "../helpers/merge";
import { ImportJobClient } from "../../provider/client";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

async function serialize(kind: ProviderKind): Promise<string> {
  const provider = serializableProvider(kind);
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return sf.text;
}

describe("serialized providers", () => {
  test("the serialized text is small and loads nothing but the runtime module", async () => {
    for (const kind of ["stage", "stagedFiles", "volume", "volumeFiles", "importJob", "mergeJob"] as const) {
      const text = await serialize(kind);
      expect(text.length).toBeLessThan(4096);
      expect(text).toContain('require("pulumi-zilliz-stages/runtime")');
      // Nothing else is captured: no other module, no config, no environment.
      expect(text.match(/require\(/g)).toHaveLength(1);
      expect(text).not.toMatch(/process\.env|apiKey|ZILLIZCLOUD/);
    }
  });

  describe("through the SDK's dynamic-provider server", () => {
    let emu: Emulator;
    let server: DynamicProviderServer;
    let dir: string;
    const stageUrn = "urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:Stage::raw";
    const filesUrn = "urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::batch";

    beforeAll(async () => {
      await fs.access(path.join(__dirname, "../../dist/provider/resources/runtime.js")).catch(() => {
        throw new Error("dist/ is missing: run `npm run build` (npm test does it before jest)");
      });
      emu = await startEmulator({ collections: ["in01-emulator/quickstart", "in01-emulator/served_books"] });
      dir = await mkTmp();
      server = await DynamicProviderServer.start();
      await server.configure({ "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url });
    });
    afterAll(async () => {
      await server?.stop();
      await emu?.stop();
      await rmTmp(dir);
    });

    test("Stage: check, diff, create, update, read, delete", async () => {
      const __provider = await serialize("stage");
      const inputs = { __provider, projectId: "proj-1", regionId: "aws-us-west-2", stageName: "served" };

      const bad = await server.check(stageUrn, {}, { ...inputs, stageName: "no spaces please" });
      expect(bad.failures).toEqual([{ property: "stageName", reason: expect.stringContaining("letters, digits") }]);

      const checked = await server.check(stageUrn, {}, inputs);
      expect(checked.failures).toEqual([]);
      const created = await server.create(stageUrn, checked.inputs);
      expect(created.id).toBe("served");
      expect(created.properties).toMatchObject({ projectId: "proj-1", stageName: "served", __provider });
      expect(emu.listStageNames()).toContain("served");

      expect((await server.diff(stageUrn, created.id, created.properties, checked.inputs)).changes).toBe(1); // DIFF_NONE
      const replace = await server.diff(stageUrn, created.id, created.properties, { ...checked.inputs, regionId: "gcp-us-west1" });
      expect(replace).toEqual({ changes: 2, replaces: ["regionId"], deleteBeforeReplace: true }); // DIFF_SOME

      const updated = await server.update(stageUrn, created.id, created.properties, checked.inputs);
      expect(updated).toMatchObject({ stageName: "served", __provider });

      const read = await server.read(stageUrn, created.id, created.properties);
      expect(read.id).toBe("served");

      await server.delete(stageUrn, created.id, created.properties);
      expect(emu.listStageNames()).not.toContain("served");
      const gone = await server.read(stageUrn, created.id, created.properties);
      expect(gone.id).toBe("");
    });

    test("StagedFiles: check fingerprints the source; create, update, read, delete move real bytes", async () => {
      await fetch(`${emu.url}/v2/stages/create`, {
        method: "POST",
        headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "files" }),
      });
      await writeTree(dir, { "a.json": "[1]", "b/c.npy": "npy" });
      const __provider = await serialize("stagedFiles");
      const news = { __provider, stageName: "files", source: dir, path: "in/" };

      const checked = await server.check(filesUrn, {}, news);
      expect(checked.failures).toEqual([]);
      // The inputs carry a fingerprint of the listing, not the manifest.
      expect(checked.inputs).not.toHaveProperty("manifest");
      expect(checked.inputs.sourceFingerprint).toMatch(/^[0-9a-f]{64}$/);

      const created = await server.create(filesUrn, checked.inputs);
      expect(created.id).toBe("files/in/");
      // One encoded manifest in the outputs; files and dataPaths are the program's to derive.
      expect(manifestPaths(created.properties.manifest)).toEqual(["a.json", "b/c.npy"]);
      expect(created.properties).toMatchObject({ fileCount: 2, totalBytes: 6, retained: [], __provider });
      expect(created.properties).not.toHaveProperty("files");
      expect(created.properties).not.toHaveProperty("dataPaths");
      const prefix = "stages/proj-1/files/in/";
      expect((await emu.readObject(prefix + "b/c.npy")).toString()).toBe("npy");

      await writeTree(dir, { "a.json": "[1,2]" });
      const rechecked = await server.check(filesUrn, checked.inputs, news);
      expect(rechecked.inputs.sourceFingerprint).not.toBe(checked.inputs.sourceFingerprint);
      expect((await server.diff(filesUrn, created.id, created.properties, rechecked.inputs)).changes).toBe(2);
      const updated = await server.update(filesUrn, created.id, created.properties, rechecked.inputs);
      expect((await emu.readObject(prefix + "a.json")).toString()).toBe("[1,2]");
      expect(updated.totalBytes).toBe(8);

      const read = await server.read(filesUrn, created.id, updated);
      expect(manifestPaths(read.properties.manifest)).toEqual(["a.json", "b/c.npy"]);

      await server.delete(filesUrn, created.id, updated);
      expect(emu.listObjects(prefix)).toEqual([]);
    });

    test("StagedFiles: state in the 0.1.0 shape diffs, updates (migrating) and deletes through the server", async () => {
      await writeTree(dir, { "a.json": "[1]", "b/c.npy": "npy" });
      const __provider = await serialize("stagedFiles");
      const news = { __provider, stageName: "files", source: dir, path: "old/" };
      const created = await server.create(filesUrn, (await server.check(filesUrn, {}, news)).inputs);
      // Rewrite the recorded state as 0.1.0 wrote it: the manifest as an object, files and dataPaths, no retained.
      const { decodeManifest } = await import("../../provider/upload");
      const manifest = decodeManifest(created.properties.manifest);
      const files = ["old/a.json", "old/b/c.npy"];
      const rest: Record<string, unknown> = { ...created.properties };
      delete rest.retained;
      const legacyOuts = { ...rest, manifest, files, dataPaths: files.map((f) => [f]) };
      const legacyIns = { ...news, path: "old/", manifest };

      const checked = await server.check(filesUrn, legacyIns, news);
      expect(checked.inputs).not.toHaveProperty("manifest");
      expect((await server.diff(filesUrn, created.id, legacyOuts, checked.inputs)).changes).toBe(1); // DIFF_NONE

      await writeTree(dir, { "a.json": "[1,2,3]" });
      const rechecked = await server.check(filesUrn, legacyIns, news);
      expect((await server.diff(filesUrn, created.id, legacyOuts, rechecked.inputs)).changes).toBe(2);
      const updated = await server.update(filesUrn, created.id, legacyOuts, rechecked.inputs);
      expect(typeof updated.manifest).toBe("string");
      expect(updated).not.toHaveProperty("files");
      expect(updated.totalBytes).toBe(10);

      await server.delete(filesUrn, created.id, legacyOuts);
      expect(emu.listObjects("stages/proj-1/files/old/")).toEqual([]);
    });

    test("ImportJob: create waits for the job; a timeout is a partial failure the engine records, and the update follows that job", async () => {
      const importUrn = "urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:ImportJob::load";
      const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
      await client.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "jobs" });
      // 20,000 rows at the emulator's 2,000 a second: ten seconds, far past a one-second timeout.
      await putObjects(client, "jobs", { "in/small.parquet": await parquet(100), "in/big.parquet": await parquet(20_000) });
      await client.close();
      const __provider = await serialize("importJob");
      const news = { __provider, clusterId: "in01-emulator", collectionName: "quickstart", stageName: "jobs", dataPaths: [["in/small.parquet"]] };

      const bad = await server.check(importUrn, {}, { ...news, projectId: "proj-1" });
      expect(bad.failures).toEqual([{ property: "projectId", reason: expect.stringContaining("must not be given together with clusterId") }]);
      const checked = await server.check(importUrn, {}, news);
      expect(checked.failures).toEqual([]);
      const created = await server.create(importUrn, checked.inputs);
      expect(created.properties).toMatchObject({ jobId: created.id, state: "Completed", importedRows: 100, __provider });
      expect((await server.read(importUrn, created.id, created.properties)).properties).toMatchObject({ state: "Completed" });
      expect((await server.diff(importUrn, created.id, created.properties, checked.inputs)).changes).toBe(1); // DIFF_NONE

      const slow = { ...news, dataPaths: [["in/big.parquet"]], timeoutSeconds: 1 };
      const replace = await server.diff(importUrn, created.id, created.properties, slow);
      expect(replace).toMatchObject({ changes: 2, replaces: ["dataPaths"] });
      const err = await server.create(importUrn, slow).catch((e: unknown) => e);
      const recorded = initFailure(err);
      expect(recorded).toMatchObject({ id: expect.stringMatching(/^job-/), properties: { state: expect.stringMatching(/Pending|Importing/), __provider } });
      expect(recorded!.reasons[0]).toMatch(/follows this same job/);

      const later = { ...slow, timeoutSeconds: 60 };
      expect(await server.diff(importUrn, recorded!.id, recorded!.properties, later)).toMatchObject({ changes: 2, replaces: [] });
      const followed = await server.update(importUrn, recorded!.id, recorded!.properties, later);
      expect(followed).toMatchObject({ jobId: recorded!.id, state: "Completed", importedRows: 20_000, __provider });
      expect(emu.requests().filter((r) => r.kind === "import:create" && r.code === 0)).toHaveLength(2);
      await server.delete(importUrn, recorded!.id, followed);
    });

    test("MergeJob: create merges and waits; a failed merge is a partial failure the engine records; delete leaves the collection", async () => {
      const mergeUrn = "urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:MergeJob::enrich";
      const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
      await client.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "merges" });
      await putObjects(client, "merges", {
        "books.json": JSON.stringify([{ id: 1, title: "a" }, { id: 2, title: "b" }]),
        "extra/genres.parquet": await parquetColumns({ id: { type: "INT64", data: [2n, 3n] }, genre: { type: "STRING", data: ["drama", "orphan"] } }),
      });
      await new ImportJobClient(client).create({ clusterId: "in01-emulator", collectionName: "served_books", volumeName: "merges", dataPaths: [["books.json"]] });
      await untilRows(emu, "in01-emulator/default/served_books", 2);
      await client.close();
      const __provider = await serialize("mergeJob");
      const news = {
        __provider,
        clusterId: "in01-emulator",
        collectionName: "served_books",
        destCollectionName: "served_genres",
        mergeField: "id",
        newFields: [{ fieldName: "genre", dataType: "VARCHAR", maxLength: 8 }],
        volumeName: "merges",
        dataPath: "extra/genres.parquet",
      };

      const bad = await server.check(mergeUrn, {}, { ...news, newFields: [{ fieldName: "genre", dataType: "VARCHAR" }] });
      expect(bad.failures).toEqual([{ property: "newFields[0].maxLength", reason: expect.stringContaining("is required for a VARCHAR field") }]);
      const checked = await server.check(mergeUrn, {}, news);
      expect(checked.failures).toEqual([]);
      const created = await server.create(mergeUrn, checked.inputs);
      expect(created.properties).toMatchObject({ jobId: created.id, status: "SUCCESSFUL", progress: 100, destCollectionName: "served_genres", __provider });
      expect((await inspectCollection(emu, "in01-emulator/default/served_genres"))!.rows).toEqual([
        { id: 1, title: "a", genre: null },
        { id: 2, title: "b", genre: "drama" },
      ]);
      expect((await server.read(mergeUrn, created.id, created.properties)).properties).toMatchObject({ status: "SUCCESSFUL" });
      expect((await server.diff(mergeUrn, created.id, created.properties, checked.inputs)).changes).toBe(1); // DIFF_NONE
      const replace = await server.diff(mergeUrn, created.id, created.properties, { ...checked.inputs, destCollectionName: "served_more" });
      expect(replace).toMatchObject({ changes: 2, replaces: ["destCollectionName"] });

      // The same destination again: the service fails the job, the engine records it.
      const err = await server.create(mergeUrn, checked.inputs).catch((e: unknown) => e);
      const recorded = initFailure(err);
      expect(recorded).toMatchObject({ id: expect.stringMatching(/^job-/), properties: { status: "FAILED", __provider } });
      expect(recorded!.reasons[0]).toMatch(/pick a new destCollectionName/);

      await server.delete(mergeUrn, created.id, created.properties);
      expect(await inspectCollection(emu, "in01-emulator/default/served_genres")).toBeDefined();
      expect(server.output.stderr).toMatch(/leaves collection served_genres \(database default\) in place/);
    });

    test("no API key in what the engine would store", async () => {
      const __provider = await serialize("stage");
      const created = await server.create(stageUrn, { __provider, projectId: "proj-1", regionId: "r", stageName: "secretless" });
      expect(JSON.stringify(created)).not.toContain(emu.apiKey);
      expect(server.output.stdout + server.output.stderr).not.toContain(emu.apiKey);
      await server.delete(stageUrn, created.id, created.properties);
    });
  });
});
