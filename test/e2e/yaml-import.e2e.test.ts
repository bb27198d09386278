// Import under the real CLI, from a YAML program: a volume, a stage and the
// files in it, all made outside Pulumi, taken over with the `import` option;
// then `up` changes nothing, `pulumi import` takes over an import job that
// ran outside Pulumi (and its code, in the program, starts no second job),
// `pulumi import` adds one more volume (and prints code that declares it),
// and destroy removes exactly what was imported.
import * as fs from "node:fs";
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { ImportJobClient, ZillizClient } from "../../provider/client";
import { configuredProvider } from "../helpers/provider";
import { endSuite } from "../helpers/e2e";
import { mkTmp, writeTree } from "../helpers/fs";
import { jsonRows } from "../helpers/data-files";
import { endedImportJob } from "../helpers/import-job";
import { putObjects } from "../helpers/s3";
import { yamlWorkspace } from "../helpers/yaml-workspace";

jest.setTimeout(15 * 60_000);

describe("import into a YAML program", () => {
  let emu: Emulator;
  let client: ZillizClient;
  let data: string;
  let ws: any;
  /** The import job run outside Pulumi, from files in the volume raw_vectors. */
  let jobId: string;
  const importCreates = () => emu.requests().filter((r) => r.kind === "import:create");
  const pulumi = (args: string[], opts?: object) => ws.must(args, opts);

  beforeAll(async () => {
    emu = await startEmulator();
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    data = await mkTmp("zstages-e2e-import-");
    await writeTree(data, { "1.json": "[1]", "sub/2.json": "[2]" });
    // Made outside Pulumi: two volumes, a stage, its files (uploaded by this package, so they carry their SHA-256) and one foreign object.
    for (const volumeName of ["raw_vectors", "second", "untouched"]) await client.createVolume({ projectId: "proj-e2e", regionId: "aws-us-west-2", volumeName });
    await client.createStage({ projectId: "proj-e2e", regionId: "aws-us-west-2", stageName: "raw_stage" });
    const { provider, close } = await configuredProvider("stagedFiles", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url });
    const checked = await provider.check({}, { stageName: "raw_stage", source: data, path: "data/" });
    await provider.create(checked.inputs);
    await close();
    await putObjects(client, "raw_stage", { "data/foreign.bin": "not ours" });
    await putObjects(client, "raw_vectors", { "load/1.json": jsonRows(2), "load/2.json": jsonRows(3) });
    const job = await endedImportJob(client, {
      clusterId: "in01-emulator",
      collectionName: "quickstart",
      volumeName: "raw_vectors",
      dataPaths: [["load/"]],
    });
    expect(job.state).toBe("Completed");
    jobId = job.jobId;
    ws = await yamlWorkspace(path.join(__dirname, "yaml-import"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "source", data]);
  });
  afterAll(() => endSuite({ ws, client, emu, data }));

  test("1. up imports the volume, the stage and the files: nothing is created, uploaded or deleted", async () => {
    emu.clearRequests();
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout).toMatch(/3 imported/);
    expect(emu.requests().filter((r) => ["create", "delete", "s3:put", "s3:delete", "s3:deleteMany"].includes(r.kind))).toEqual([]);
    expect(JSON.parse((await pulumi(["stack", "output", "--json"])).stdout)).toEqual({
      volumeType: "MANAGED",
      fileCount: 2,
      files: ["data/1.json", "data/sub/2.json"],
    });
    // The object without a recorded SHA-256 is named, under the StagedFiles.
    expect(up.stdout).toMatch(/StagedFiles \(files\):\n[^\n]*foreign\.bin/);
  });

  test("2. then up and preview show no change", async () => {
    await pulumi(["preview", "--expect-no-changes"]);
    const again = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(again.stdout).toMatch(/4 unchanged/);
  });

  test("3. pulumi import of a finished import job by <clusterId>/volume:<name>/<jobId>; its code in the program changes nothing and starts no job", async () => {
    emu.clearRequests();
    const out = path.join(ws.root, "load.yaml");
    await pulumi(["import", "zillizcloud:index:ImportJob", "load", `in01-emulator/volume:raw_vectors/${jobId}`, "--yes", "--protect=false", "--out", out]);
    const code = fs.readFileSync(out, "utf8");
    expect(code).toMatch(/type: zillizcloud:(index:)?ImportJob/);
    expect(code).toMatch(/volumeName: raw_vectors/);
    expect(code).toMatch(/load\/1\.json/);
    // The code `pulumi import` wrote, into the program, under `resources:`.
    const declared = code.slice(code.indexOf("resources:\n") + "resources:\n".length).replace(/\noutputs:[\s\S]*$/, "");
    const project = path.join(ws.dir, "Pulumi.yaml");
    fs.writeFileSync(project, fs.readFileSync(project, "utf8").replace(/^resources:\n/m, `resources:\n${declared.trimEnd()}\n`));

    const noChange = async () => {
      const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
      expect(preview.steps.filter((step: { op: string }) => step.op !== "same")).toEqual([]);
      expect(preview.changeSummary).toEqual({ same: 5 });
      const up = await pulumi(["up", "--yes", "--skip-preview"]);
      expect(up.stdout).toMatch(/5 unchanged/);
    };
    await noChange();
    // The program as it was written when the job ran (a folder, not the report's files one by one), with a database
    // the report does not name: the same files, so the same job.
    const program = fs.readFileSync(project, "utf8");
    expect(program).toMatch(/dataPaths:\n(\s+- - load\/\d\.json\n){2}/);
    fs.writeFileSync(project, program.replace(/dataPaths:\n(\s+- - .*\n)+/, 'dataPaths: [["load/"]]\n      dbName: default\n'));
    await noChange();
    expect(JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources).toContainEqual(
      expect.objectContaining({ type: "zillizcloud:index:ImportJob", id: jobId, outputs: expect.objectContaining({ state: "Completed", importedRows: 5 }) }),
    );
    // No second job: none asked for, and the collection has the one that ran outside Pulumi.
    expect(importCreates()).toEqual([]);
    const jobs = await new ImportJobClient(client).list({ clusterId: "in01-emulator" }, { collectionName: "quickstart" });
    expect(jobs.records.map((r) => r.jobId)).toEqual([jobId]);
  });

  test("4. pulumi import of a volume by <projectId>/<volumeName> prints code that declares it", async () => {
    const imported = await pulumi(["import", "zillizcloud:index:Volume", "second", "proj-e2e/second", "--yes", "--protect=false"]);
    expect(imported.stdout).toMatch(/type: zillizcloud:(index:)?Volume/);
    expect(imported.stdout).toMatch(/volumeName: second/);
    expect(imported.stdout).toMatch(/projectId: proj-e2e/);
    const bare = await ws.run(["import", "zillizcloud:index:Volume", "third", "untouched", "--yes", "--protect=false"]);
    expect(bare.code).not.toBe(0);
    expect(bare.stdout + bare.stderr).toMatch(/<projectId>\/<volumeName>/);
  });

  test("5. destroy removes exactly what was imported: the foreign object stayed until its stage went, the untouched volume stays; the import job starts nothing", async () => {
    emu.clearRequests();
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(importCreates()).toEqual([]);
    expect(emu.listVolumeNames()).toEqual(["untouched"]);
    expect(await client.findStage("proj-e2e", "raw_stage")).toBeUndefined();
    expect(ws.transcript()).not.toContain(emu.apiKey);
  });
});
