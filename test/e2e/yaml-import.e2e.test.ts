// Import under the real CLI, from a YAML program: a volume, a stage and the
// files in it, all made outside Pulumi, taken over with the `import` option;
// then `up` changes nothing, `pulumi import` adds one more volume (and prints
// code that declares it), and destroy removes exactly what was imported.
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { ZillizClient } from "../../provider/client";
import { configuredProvider } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { putObjects } from "../helpers/s3";
import { yamlWorkspace } from "../helpers/yaml-workspace";

jest.setTimeout(15 * 60_000);

describe("import into a YAML program", () => {
  let emu: Emulator;
  let client: ZillizClient;
  let data: string;
  let ws: any;
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
    ws = await yamlWorkspace(path.join(__dirname, "yaml-import"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "source", data]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await client?.close();
    await emu?.stop();
    await rmTmp(data);
  });

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

  test("3. pulumi import of a volume by <projectId>/<volumeName> prints code that declares it", async () => {
    const imported = await pulumi(["import", "zillizcloud:index:Volume", "second", "proj-e2e/second", "--yes", "--protect=false"]);
    expect(imported.stdout).toMatch(/type: zillizcloud:(index:)?Volume/);
    expect(imported.stdout).toMatch(/volumeName: second/);
    expect(imported.stdout).toMatch(/projectId: proj-e2e/);
    const bare = await ws.run(["import", "zillizcloud:index:Volume", "third", "untouched", "--yes", "--protect=false"]);
    expect(bare.code).not.toBe(0);
    expect(bare.stdout + bare.stderr).toMatch(/<projectId>\/<volumeName>/);
  });

  test("4. destroy removes exactly what was imported: the foreign object stayed until its stage went, the untouched volume stays", async () => {
    emu.clearRequests();
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual(["untouched"]);
    expect(await client.findStage("proj-e2e", "raw_stage")).toBeUndefined();
    expect(ws.transcript()).not.toContain(emu.apiKey);
  });
});
