// Volumes under the real Pulumi engine: a Volume and its VolumeFiles, a
// change, adoption of a volume made outside Pulumi (the engine cannot
// import dynamic resources), and destroy. The CLI comes from scripts/pulumi.
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { ZillizClient } from "../../provider/client";
import { endSuite } from "../helpers/e2e";
import { objectsUnder } from "../helpers/stage";
import { mkTmp, writeTree } from "../helpers/fs";

// Plain JS shared with `npm run demo`.
const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

describe("volumes end to end under the Pulumi CLI", () => {
  let emu: Emulator;
  let client: ZillizClient;
  let data: string;
  let ws: any;

  const pulumi = (args: string[], opts?: object) => ws.must(args, opts);
  const outputs = async () => JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
  /** What the volume holds, relative to it. */
  async function stored(volumeName: string): Promise<Record<string, string>> {
    const { prefix } = await client.applyUploadTarget({ volumeName, path: "" });
    return objectsUnder(emu, prefix);
  }

  beforeAll(async () => {
    emu = await startEmulator();
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    data = await mkTmp("zstages-e2e-vol-");
    await writeTree(data, { "1.json": '{"rows":[1]}', "nested/2.json": '{"rows":[2]}' });
    ws = createWorkspace(path.join(__dirname, "volumes"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "volumeName", "e2e_volume"]);
    await pulumi(["config", "set", "source", data]);
  });

  afterAll(() => endSuite({ ws, client, emu, data }));

  test("1. up creates a managed volume and uploads into it through the volume API", async () => {
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual(["e2e_volume"]);
    expect(await stored("e2e_volume")).toEqual({ "data/1.json": '{"rows":[1]}', "data/nested/2.json": '{"rows":[2]}' });
    const applies = emu.requests().filter((r) => r.kind === "apply");
    expect(applies.length).toBeGreaterThan(0);
    expect(applies.every((r) => r.path === "/v2/volumes/apply")).toBe(true);
    const out = await outputs();
    expect(out).toMatchObject({ volumeName: "e2e_volume", volumeType: "MANAGED", fileCount: 2 });
    expect(Date.parse(out.createTime)).toBeGreaterThan(0);
    expect(out.dataPaths).toEqual([["data/1.json"], ["data/nested/2.json"]]);
  });

  test("2. a changed file is the only one sent; the volume stays", async () => {
    await writeTree(data, { "1.json": '{"rows":[1,1]}' });
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    const sent = emu.requests().filter((r) => r.kind === "s3:put" && r.status === 200);
    expect(sent.map((r) => r.key!.replace(/^.*\/data\//, ""))).toEqual(["1.json"]);
    expect(emu.requests().filter((r) => r.kind === "create" || r.kind === "delete")).toEqual([]);
  });

  test("2b. a new description: preview shows an update of the Volume, never a replace; up changes it in place", async () => {
    const createTime = (await outputs()).createTime;
    await pulumi(["config", "set", "description", "raw files for the e2e collection"]);
    const steps = JSON.parse((await pulumi(["preview", "--json"])).stdout).steps as { op: string; urn: string }[];
    const volumeStep = steps.find((s) => s.urn.endsWith("::volume"));
    expect(volumeStep?.op).toBe("update");
    expect(steps.filter((s) => /replace/.test(s.op))).toEqual([]);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.requests().filter((r) => r.kind === "update").map((r) => [r.method, r.path])).toEqual([["PATCH", "/v2/volumes/e2e_volume"]]);
    expect(emu.requests().filter((r) => r.kind === "create" || r.kind === "delete")).toEqual([]);
    expect(await client.describeVolume("e2e_volume")).toMatchObject({ description: "raw files for the e2e collection" });
    expect(await outputs()).toMatchObject({ description: "raw files for the e2e collection", createTime });
    await pulumi(["config", "rm", "description"]);
  });

  test("3. a volume made outside Pulumi: 'already exists' points to adopt, and adopt: true takes it over", async () => {
    await client.createVolume({ projectId: "proj-e2e", regionId: "aws-us-west-2", volumeName: "made_elsewhere" });
    await pulumi(["config", "set", "volumeName", "made_elsewhere"]);
    const refused = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/already exists.*adopt: true/s);
    expect(refused.stdout + refused.stderr).not.toMatch(/import: /);

    await pulumi(["config", "set", "adopt", "true"]);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    // Nothing created: the existing volume was described and taken over; the old one went with its replacement.
    expect(emu.requests().filter((r) => r.kind === "create")).toEqual([]);
    expect(emu.listVolumeNames()).toEqual(["made_elsewhere"]);
    expect(await stored("made_elsewhere")).toEqual({ "data/1.json": '{"rows":[1,1]}', "data/nested/2.json": '{"rows":[2]}' });
    expect(await outputs()).toMatchObject({ volumeName: "made_elsewhere", fileCount: 2 });
  });

  test("4. adopt refuses a volume whose settings differ, naming the field", async () => {
    await client.createVolume({ projectId: "proj-e2e", regionId: "gcp-us-west1", volumeName: "elsewhere_gcp" });
    await pulumi(["config", "set", "volumeName", "elsewhere_gcp"]);
    const refused = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/regionId is "gcp-us-west1" there, "aws-us-west-2" here/);
    await pulumi(["config", "set", "volumeName", "made_elsewhere"]);
  });

  test("5. destroy removes the files and the volume it manages", async () => {
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual(["elsewhere_gcp"]);
    expect(emu.listObjects()).toEqual([]);
  });
});
