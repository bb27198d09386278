// The zillizcloud plugin as the engine runs it: its executable (node on
// dist/; `npm run build` first), spoken to over the provider protocol,
// against the emulator. The same controllers as the dynamic resources; what
// is proven here is the door: config from PULUMI_CONFIG, type tokens,
// secrets in and out, unknowns during preview, derived file outputs,
// partial failures, functions, and messages attached to their resource.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ZillizClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { UNKNOWN } from "../../provider/resources/inputs";
import { DynamicProviderServer, initFailure } from "../helpers/dynamic-provider-server";
import { EngineLogServer } from "../helpers/engine-log-server";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { jsonRows, npy } from "../helpers/data-files";
import { endedImportJob } from "../helpers/import-job";
import { putObjects } from "../helpers/s3";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: unknown) => ({ [SIG]: SECRET, value });
const urn = (type: string, name: string) => `urn:pulumi:dev::proj::zillizcloud:index:${type}::${name}`;

describe("zillizcloud native plugin", () => {
  let emu: Emulator;
  let engine: EngineLogServer;
  let plugin: DynamicProviderServer;
  let client: ZillizClient;
  let dir: string;
  const volume = { projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" };

  beforeAll(async () => {
    // A cluster's collection and a project database's, for the import of import jobs.
    emu = await startEmulator({ collections: ["in01-emulator/quickstart", "proj-1:aws-us-west-2/books"] });
    engine = await EngineLogServer.start();
    plugin = await DynamicProviderServer.startNative({ PULUMI_CONFIG: JSON.stringify({ apiKey: emu.apiKey, endpoint: emu.url }) }, engine.address);
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    dir = await mkTmp();
  });
  afterAll(async () => {
    await plugin?.stop();
    await engine?.stop();
    await client?.close();
    await emu?.stop();
    if (dir) await rmTmp(dir);
  });

  test("Volume: check, create, no-op diff, read, delete through the type token, with the stack config from PULUMI_CONFIG", async () => {
    const u = urn("Volume", "raw");
    const checked = await plugin.check(u, {}, volume);
    expect(checked.failures).toEqual([]);
    const created = await plugin.create(u, checked.inputs);
    expect(created.id).toBe("raw");
    expect(created.properties).toMatchObject({ ...volume, type: "MANAGED" });
    expect(await client.describeVolume("raw")).toMatchObject({ type: "MANAGED" });
    expect((await plugin.diff(u, "raw", created.properties, checked.inputs)).replaces).toEqual([]);
    expect((await plugin.diff(u, "raw", created.properties, { ...volume, regionId: "gcp-us-west1" })).replaces).toEqual(["regionId"]);
    expect((await plugin.read(u, "raw", created.properties)).properties).toMatchObject(volume);
    await plugin.delete(u, "raw", created.properties);
    expect(await client.describeVolume("raw")).toBeUndefined();
    // Gone: read answers with no id, and the engine drops the resource.
    expect((await plugin.read(u, "raw", created.properties)).id).toBe("");
  });

  test("check refuses bad input naming the field, and lets a value unknown during preview through", async () => {
    const bad = await plugin.check(urn("Volume", "bad"), {}, { ...volume, volumeName: "no spaces" });
    expect(bad.failures.map((f) => f.property)).toEqual(["volumeName"]);
    const preview = await plugin.check(urn("Volume", "later"), {}, { ...volume, volumeName: UNKNOWN });
    expect(preview.failures).toEqual([]);
    const diff = await plugin.diff(urn("Volume", "later"), "raw", { ...volume, type: "MANAGED" }, { ...volume, volumeName: UNKNOWN });
    expect(diff.replaces).toEqual(["volumeName"]);
  });

  test("a secret connection is used, and comes back secret in the checked inputs and the outputs", async () => {
    const u = urn("Stage", "s");
    // The stack config is the emulator's; this resource's own key is a wrong one, and must be the one used.
    const wrong = { ...{ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "s" }, connection: secret({ endpoint: emu.url, apiKey: "wrong-key" }) };
    const checked = await plugin.check(u, {}, wrong);
    expect(checked.inputs.connection).toEqual(secret({ endpoint: emu.url, apiKey: "wrong-key" }));
    await expect(plugin.create(u, checked.inputs)).rejects.toThrow(/401|auth|key/i);
    const right = { ...wrong, connection: secret({ endpoint: emu.url, apiKey: emu.apiKey }) };
    const created = await plugin.create(u, (await plugin.check(u, {}, right)).inputs);
    expect(created.properties.connection).toEqual(secret({ endpoint: emu.url, apiKey: emu.apiKey }));
    await plugin.delete(u, "s", created.properties);
  });

  test("ImportJob from a bucket: the keys, sent plain, come back secret in the checked inputs; the outputs hold a secret digest and never the keys", async () => {
    const u = urn("ImportJob", "bucket");
    const keys = { accessKey: "AKIDNATIVEDOOR", secretKey: "native-door-secret" };
    const inputs = { clusterId: "in01-emulator", collectionName: "quickstart", objectUrls: [["s3://user-bucket/a.json"]], waitForCompletion: false, ...keys };
    const checked = await plugin.check(u, {}, inputs);
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.accessKey).toEqual(secret(keys.accessKey));
    expect(checked.inputs.secretKey).toEqual(secret(keys.secretKey));
    // Not waiting: the job (which this emulator cannot read, having no bucket) is only started.
    const created = await plugin.create(u, checked.inputs);
    expect(created.properties.credentialsDigest).toEqual(secret(expect.stringMatching(/^[0-9a-f]{32}:[0-9a-f]{64}$/)));
    expect(created.properties).not.toHaveProperty("accessKey");
    const shown = JSON.stringify(created.properties);
    for (const key of Object.values(keys)) expect(shown).not.toContain(key);
    const rotated = await plugin.check(u, created.properties, { ...inputs, secretKey: "rotated-native-secret" });
    expect(await plugin.diff(u, created.id, created.properties, rotated.inputs)).toMatchObject({ changes: 2, replaces: [] }); // DIFF_SOME, an update
  });

  test("VolumeFiles: files, dataPaths and changedDataPaths are outputs; diff lines reach the engine under the resource's URN", async () => {
    await client.createVolume({ ...volume, volumeName: "files" });
    const src = path.join(dir, "src");
    await writeTree(src, { "a.json": "[]", "sub/b.json": "[1]" });
    const u = urn("VolumeFiles", "f");
    const inputs = { volumeName: "files", source: src, path: "data/" };
    const checked = await plugin.check(u, {}, inputs);
    expect(checked.failures).toEqual([]);
    const created = await plugin.create(u, checked.inputs);
    expect(created.id).toBe("files/data/");
    expect(created.properties).toMatchObject({
      fileCount: 2,
      files: ["data/a.json", "data/sub/b.json"],
      dataPaths: [["data/a.json"], ["data/sub/b.json"]],
      changedDataPaths: [["data/a.json"], ["data/sub/b.json"]],
    });

    await writeTree(src, { "a.json": "[2]" });
    const again = await plugin.check(u, created.properties, inputs);
    engine.messages.length = 0;
    const diff = await plugin.diff(u, created.id, created.properties, again.inputs);
    expect(diff.changes).toBe(2); // DIFF_SOME
    // The call's lines reach the engine before its answer does.
    const lines = engine.messages.filter((m) => m.message.includes("a.json"));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((m) => m.urn === u)).toBe(true);

    const updated = await plugin.update(u, created.id, created.properties, again.inputs);
    expect(updated.changedDataPaths).toEqual([["data/a.json"]]);
    await plugin.delete(u, created.id, updated);
    expect(await client.volumes({ projectId: "proj-1" }).next()).toBeDefined();
  });

  test("a partial failure keeps what arrived, in the native shape (no dynamic-provider bookkeeping)", async () => {
    await client.createVolume({ ...volume, volumeName: "partial" });
    const src = path.join(dir, "partial");
    await writeTree(src, { "ok.json": "[]", "bad.json": "[1]" });
    const u = urn("VolumeFiles", "p");
    const checked = await plugin.check(u, {}, { volumeName: "partial", source: src, concurrency: 1 });
    // One file arrives, then every put is refused.
    emu.faults.add({ target: "s3:put", skip: 1, count: 100, status: 403 });
    const err = await plugin.create(u, checked.inputs).catch((e) => e);
    emu.faults.clear();
    const failure = initFailure(err);
    expect(failure?.id).toBe("partial/");
    expect(failure?.properties).not.toHaveProperty("__provider");
    expect(failure?.properties.files).toHaveLength(1);
    expect(failure?.properties.fileCount).toBe(1);
  });

  test("functions: getVolumes, getVolume, getStages", async () => {
    await client.createVolume({ ...volume, volumeName: "looked-up" });
    await client.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "st" });
    const all = await plugin.invoke("zillizcloud:index:getVolumes", { projectId: "proj-1" });
    expect(all.outputs.volumes).toEqual(expect.arrayContaining([expect.objectContaining({ volumeName: "looked-up", type: "MANAGED" })]));
    expect((await plugin.invoke("zillizcloud:index:getVolume", { volumeName: "looked-up" })).outputs).toMatchObject({ found: true, volume: { volumeName: "looked-up" } });
    expect((await plugin.invoke("zillizcloud:index:getVolume", { volumeName: "nope" })).outputs).toEqual({ found: false });
    expect((await plugin.invoke("zillizcloud:index:getStages", { projectId: "proj-1" })).outputs.stages).toContainEqual({ stageName: "st" });
  });

  test("import: read from the id alone rebuilds a Volume, a Stage and a VolumeFiles; an id that cannot say enough is refused with the form to use", async () => {
    await client.createVolume({ ...volume, volumeName: "imported" });
    const v = await plugin.read(urn("Volume", "v"), "proj-1/imported", {});
    expect(v.id).toBe("imported");
    expect(v.properties).toMatchObject({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "imported", type: "MANAGED" });
    expect(v.inputs).toEqual({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "imported", type: "MANAGED" });
    expect((await plugin.read(urn("Volume", "v"), "proj-2/imported", {})).id).toBe("");
    await expect(plugin.read(urn("Volume", "v"), "imported", {})).rejects.toThrow(/<projectId>\/<volumeName>/);

    await client.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "imported_stage" });
    const st = await plugin.read(urn("Stage", "s"), "proj-1/aws-us-west-2/imported_stage", {});
    expect(st).toMatchObject({ id: "imported_stage", inputs: { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "imported_stage" } });

    // Files uploaded by one resource, imported by another: the same manifest (digests from the objects' metadata).
    const src = path.join(dir, "imp");
    await writeTree(src, { "x.json": "[1]", "y/z.json": "[2,3]" });
    const u = urn("VolumeFiles", "orig");
    const created = await plugin.create(u, (await plugin.check(u, {}, { volumeName: "imported", source: src, path: "in/" })).inputs);
    const f = await plugin.read(urn("VolumeFiles", "adopted"), "imported/in/", {});
    expect(f.id).toBe("imported/in/");
    expect(f.inputs).toEqual({ volumeName: "imported", path: "in/" });
    expect(f.properties).toMatchObject({ fileCount: 2, manifestHash: created.properties.manifestHash, files: ["in/x.json", "in/y/z.json"] });
    expect(f.properties).not.toHaveProperty("source");
    // The program's source has exactly that content: no change.
    const news = (await plugin.check(urn("VolumeFiles", "adopted"), {}, { volumeName: "imported", source: src, path: "in/" })).inputs;
    expect((await plugin.diff(urn("VolumeFiles", "adopted"), f.id, f.properties, news)).changes).toBe(1); // DIFF_NONE
    await expect(plugin.read(urn("MergeJob", "m"), "job-2", {})).rejects.toThrow(/cannot import MergeJob "job-2": .* would start the merge again/);
  });

  describe("import of an ImportJob: read from <clusterId>/volume:<name>/<jobId>, and a diff that takes only that job's files", () => {
    const jobUrn = urn("ImportJob", "load");
    const where = { clusterId: "in01-emulator", collectionName: "quickstart", volumeName: "jobs_src" };
    const batches = [["in/a.json"], ["in/b.json"], ["in/np/id.npy", "in/np/vec.npy"]];
    let jobId: string;
    let imported: { id: string; properties: any; inputs: any };

    beforeAll(async () => {
      await client.createVolume({ ...volume, volumeName: "jobs_src" });
      await putObjects(client, "jobs_src", { "in/a.json": jsonRows(2), "in/b.json": jsonRows(3), "in/np/id.npy": npy([4]), "in/np/vec.npy": npy([4, 2]) });
      const report = await endedImportJob(client, { ...where, dataPaths: batches });
      expect(report.state).toBe("Completed");
      jobId = report.jobId;
      emu.clearRequests();
      engine.messages.length = 0;
      imported = await plugin.read(jobUrn, `in01-emulator/volume:jobs_src/${jobId}`, {});
    });
    afterEach(() => {
      // Whatever read and diff did, they started no job.
      expect(emu.requests().filter((r) => r.kind === "import:create")).toEqual([]);
    });

    test("read rebuilds the inputs that name the job, and the state create would have recorded, plus the report's files", async () => {
      expect(imported.id).toBe(jobId);
      // The report's files, one batch each, the .npy columns of one directory together.
      expect(imported.inputs).toEqual({ ...where, dataPaths: batches });
      // The same state a create with those inputs records (a second job, started here only to compare with).
      const made = await plugin.create(urn("ImportJob", "made"), (await plugin.check(urn("ImportJob", "made"), {}, { ...where, dataPaths: batches })).inputs);
      emu.clearRequests();
      const same = (p: any) => ({ ...p, jobId: "", completeTime: "", jobFiles: undefined });
      expect(same(imported.properties)).toEqual(same(made.properties));
      expect(imported.properties).toMatchObject({ jobId, state: "Completed", importedRows: 9, totalRows: 9, batchCount: 3, pathCount: 4 });
      expect(imported.properties.jobFiles).toEqual(batches.flat());
      // The line that says what the report leaves to the program reaches the engine under the resource.
      expect(engine.messages).toContainEqual(expect.objectContaining({ urn: jobUrn, message: expect.stringMatching(/imported job .*dbName, partitionName or trigger/) }));
      // A refresh keeps the files (the diff still needs them).
      expect((await plugin.read(jobUrn, jobId, imported.properties)).properties.jobFiles).toEqual(batches.flat());
    });

    test("diff: the program's dataPaths naming exactly the job's files, however grouped, are that job: no change", async () => {
      const diff = async (news: Record<string, unknown>) => plugin.diff(jobUrn, jobId, imported.properties, (await plugin.check(jobUrn, imported.inputs, news)).inputs);
      expect((await diff(imported.inputs)).changes).toBe(1); // DIFF_NONE: what `pulumi import` itself checks
      // A folder for everything, and what the report cannot say (database, partition, trigger, waiting) taken from the program.
      const program = { ...where, dataPaths: [["in/"]], dbName: "default", partitionName: "_default", trigger: "v1", waitForCompletion: false, timeoutSeconds: 60 };
      expect((await diff(program)).changes).toBe(1);
      expect((await diff({ ...where, dataPaths: [["in/a.json"], ["in/b.json"], ["in/np/"]] })).changes).toBe(1);
      // State written without the report's files (every version before, and any create) keeps the hash rule: another grouping is a new job.
      const { jobFiles: _files, ...legacy } = imported.properties;
      expect((await plugin.diff(jobUrn, jobId, legacy, (await plugin.check(jobUrn, {}, { ...where, dataPaths: [["in/"]] })).inputs)).replaces).toEqual(["dataPaths"]);
    });

    test("diff: other files, or another volume, for the same collection are refused, naming them; nothing is started", async () => {
      const diff = async (news: Record<string, unknown>) => plugin.diff(jobUrn, jobId, imported.properties, (await plugin.check(jobUrn, imported.inputs, news)).inputs);
      await expect(diff({ ...where, dataPaths: [["in/a.json"], ["in/b.json"]] })).rejects.toThrow(
        /imported job .* leave out: in\/np\/id\.npy, in\/np\/vec\.npy.*nothing is started/,
      );
      await expect(diff({ ...where, dataPaths: [...batches, ["in/c.json"]] })).rejects.toThrow(/name none of the job's files: in\/c\.json/);
      const { volumeName: _v, ...rest } = where;
      await expect(diff({ ...rest, stageName: "jobs_src", dataPaths: batches })).rejects.toThrow(
        /import id said its files were in volume jobs_src .* the program says stage jobs_src.*stage:jobs_src/,
      );
    });

    test("diff: another collection is a new job there (no row twice in one collection), said under the resource", async () => {
      engine.messages.length = 0;
      const news = (await plugin.check(jobUrn, imported.inputs, { ...where, collectionName: "other", dataPaths: batches })).inputs;
      expect((await plugin.diff(jobUrn, jobId, imported.properties, news)).replaces).toEqual(["collectionName"]);
      expect(engine.messages).toContainEqual(expect.objectContaining({ urn: jobUrn, message: expect.stringMatching(/starts a new job there. The rows job .* stay in quickstart/) }));
    });

    test("a job from a stage: stage:<name> in the id, stageName in the inputs; a project database by <projectId>/<regionId>", async () => {
      await client.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "jobs_stage" });
      await putObjects(client, "jobs_stage", { "s/a.json": jsonRows(1) });
      const { volumeName: _v, ...rest } = where;
      const report = await endedImportJob(client, { ...rest, stageName: "jobs_stage", dataPaths: [["s/"]] });
      emu.clearRequests();
      const fromStage = await plugin.read(jobUrn, `in01-emulator/stage:jobs_stage/${report.jobId}`, {});
      expect(fromStage.inputs).toEqual({ ...rest, stageName: "jobs_stage", dataPaths: [["s/a.json"]] });
      const news = (await plugin.check(jobUrn, {}, { ...rest, stageName: "jobs_stage", dataPaths: [["s/"]] })).inputs;
      expect((await plugin.diff(jobUrn, report.jobId, fromStage.properties, news)).changes).toBe(1);
      const inDatabase = { projectId: "proj-1", regionId: "aws-us-west-2", collectionName: "books", stageName: "jobs_stage" };
      const books = await endedImportJob(client, { ...inDatabase, dataPaths: [["s/a.json"]] });
      emu.clearRequests();
      const fromDatabase = await plugin.read(jobUrn, `proj-1/aws-us-west-2/stage:jobs_stage/${books.jobId}`, {});
      expect(fromDatabase).toMatchObject({ id: books.jobId, inputs: { ...inDatabase, dataPaths: [["s/a.json"]] }, properties: { state: "Completed", importedRows: 1 } });
      // A job is seen only where it ran.
      expect((await plugin.read(jobUrn, `in01-emulator/stage:jobs_stage/${books.jobId}`, {})).id).toBe("");
    });

    test("an id that cannot say enough is refused with the form to use; a job the service does not know is not there", async () => {
      await expect(plugin.read(jobUrn, jobId, {})).rejects.toThrow(/<clusterId>\/volume:<volumeName>\/<jobId>/);
      await expect(plugin.read(jobUrn, `in01-emulator/jobs_src/${jobId}`, {})).rejects.toThrow(/does not say whether the files were in a volume or a stage/);
      expect((await plugin.read(jobUrn, "in01-emulator/volume:jobs_src/no-such-job", {})).id).toBe("");
      // A job that failed before reading its files names none: nothing to compare a program with.
      const failed = await endedImportJob(client, { ...where, dataPaths: [["in/missing.json"]] });
      emu.clearRequests();
      await expect(plugin.read(jobUrn, `in01-emulator/volume:jobs_src/${failed.jobId}`, {})).rejects.toThrow(/names no files yet \(it failed before reading them/);
    });
  });

  test("the plugin serves the committed schema (what `pulumi package get-schema` prints)", async () => {
    const committed = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "plugin", "schema.json"), "utf8"));
    expect(JSON.parse(await plugin.getSchema())).toEqual(committed);
  });

  test("the API key never reaches the engine's log or the plugin's output", () => {
    expect(JSON.stringify(engine.messages)).not.toContain(emu.apiKey);
    expect(plugin.output.stderr + plugin.output.stdout).not.toContain(emu.apiKey);
  });
});
