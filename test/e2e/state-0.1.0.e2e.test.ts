// A stack whose StagedFiles state was written by 0.1.0 (the manifest as an
// object in the inputs and the outputs, `files` and `dataPaths` beside it, no
// `retained`), under the real CLI: it previews as unchanged, a no-op up drops
// the old manifest from the inputs without a word, a change uploads only the
// changed file and migrates the outputs, and destroy removes everything.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { decodeManifest } from "../../provider/upload";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

const STAGE = "legacy_stage";

describe("state written by 0.1.0, under the Pulumi CLI", () => {
  let emu: Emulator;
  let data: string;
  let ws: any;

  const filesResource = async () => {
    const state = JSON.parse((await ws.must(["stack", "export"])).stdout);
    return { state, files: state.deployment.resources.find((r: { type: string }) => r.type.endsWith(":StagedFiles")) };
  };

  beforeAll(async () => {
    emu = await startEmulator();
    data = await mkTmp("zstages-e2e-legacy-");
    const tree: Record<string, string> = {};
    for (let i = 0; i < 20; i++) tree[`f${i}.json`] = `{"row":${i}}`;
    await writeTree(data, tree);
    ws = createWorkspace(path.join(__dirname, "program"));
    await ws.init();
    await ws.useEmulator(emu);
    await ws.must(["config", "set", "stageName", STAGE]);
    await ws.must(["config", "set", "source", data]);
    await ws.must(["up", "--yes", "--skip-preview"]);

    // Rewrite the resource's state as 0.1.0 stored it.
    const { state, files } = await filesResource();
    const manifest = decodeManifest(files.outputs.manifest);
    const paths = Object.keys(manifest).sort().map((rel) => `data/${rel}`);
    files.inputs.manifest = manifest;
    delete files.inputs.sourceFingerprint;
    files.outputs = { ...files.outputs, manifest, files: paths, dataPaths: paths.map((p) => [p]) };
    delete files.outputs.retained;
    const file = path.join(ws.root, "legacy-state.json");
    await fs.writeFile(file, JSON.stringify(state));
    await ws.must(["stack", "import", "--file", file]);
  });

  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    await rmTmp(data);
  });

  test("preview shows no change; a no-op up drops the old manifest from the inputs and sends nothing", async () => {
    // What the engine would do, as it says it: the stack, the stage and the
    // files the same, nothing else (the JSON lists only the steps that are
    // not "same", besides the stack's).
    const preview = JSON.parse((await ws.must(["preview", "--json"])).stdout) as { steps: { op: string }[]; changeSummary: Record<string, number> };
    expect(preview.changeSummary).toEqual({ same: 3 });
    expect(preview.steps.filter((s) => s.op !== "same")).toEqual([]);
    emu.clearRequests();
    await ws.must(["up", "--yes", "--skip-preview"]);
    expect(emu.requests().filter((r) => r.kind === "s3:put")).toEqual([]);
    const { files } = await filesResource();
    expect(files.inputs).not.toHaveProperty("manifest");
    expect(files.inputs.sourceFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  test("a changed file: preview --diff names it briefly, up sends it alone and migrates the outputs", async () => {
    await writeTree(data, { "f3.json": '{"row":"three"}' });
    const preview = await ws.must(["preview", "--diff"]);
    expect(preview.stdout + preview.stderr).toContain("~ data/f3.json (15 B, was 9 B)");
    expect(preview.stdout).not.toMatch(/manifest|sha256/);
    emu.clearRequests();
    await ws.must(["up", "--yes", "--skip-preview"]);
    expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.key)).toEqual([`stages/proj-e2e/${STAGE}/data/f3.json`]);
    const { files } = await filesResource();
    expect(typeof files.outputs.manifest).toBe("string");
    expect(files.outputs).not.toHaveProperty("files");
    expect(files.outputs).not.toHaveProperty("dataPaths");
    expect(files.outputs).toMatchObject({ fileCount: 20, retained: [] });
    const outputs = JSON.parse((await ws.must(["stack", "output", "--json"])).stdout);
    expect(outputs.dataPaths).toHaveLength(20);
  });

  test("destroy removes every object and the stage", async () => {
    await ws.must(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects()).toEqual([]);
    expect(emu.listStageNames()).toEqual([]);
  });
});
