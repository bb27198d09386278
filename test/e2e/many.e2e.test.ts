// Fifty resources in one program under the real engine: two stages and 48
// StagedFiles, half into each stage, created in parallel by one provider
// process. Every file arrives, a second up is a no-op, one changed file
// updates one resource, and destroy leaves nothing behind.
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

const PARTS = 48;

describe("fifty resources in one program", () => {
  let emu: Emulator;
  let data: string;
  let ws: any;

  beforeAll(async () => {
    emu = await startEmulator();
    data = await mkTmp("zstages-e2e-many-");
    for (let i = 0; i < PARTS; i++) {
      await writeTree(path.join(data, `part-${i}`), { "a.json": `{"a":${i}}`, "b.json": `{"b":${i}}`, "nested/c.npy": `C${i}` });
    }
    ws = createWorkspace(path.join(__dirname, "many"));
    await ws.init();
    await ws.useEmulator(emu);
    await ws.must(["config", "set", "source", data]);
    await ws.must(["config", "set", "parts", String(PARTS)]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    await rmTmp(data);
  });

  const puts = () => emu.requests().filter((r) => r.kind === "s3:put" && r.status === 200);

  test("up creates all fifty; every file arrives under its own path", async () => {
    await ws.must(["up", "--yes", "--skip-preview"]);
    expect(emu.listStageNames().sort()).toEqual(["many_a", "many_b"]);
    const keys = emu.listObjects().map((o) => o.key);
    expect(keys).toHaveLength(PARTS * 3);
    for (let i = 0; i < PARTS; i++) {
      const stage = i % 2 === 0 ? "many_a" : "many_b";
      const key = `stages/proj-many/${stage}/part-${i}/nested/c.npy`;
      expect((await emu.readObject(key)).toString()).toBe(`C${i}`);
    }
    const out = JSON.parse((await ws.must(["stack", "output", "--json"])).stdout);
    expect(out.fileCounts).toEqual(Array(PARTS).fill(3));
  });

  test("a second up sends nothing; one changed file updates one resource", async () => {
    emu.clearRequests();
    await ws.must(["up", "--yes", "--skip-preview"]);
    expect(puts()).toEqual([]);

    await writeTree(path.join(data, "part-17"), { "b.json": '{"b":"changed"}' });
    const preview = JSON.parse((await ws.must(["preview", "--json"])).stdout).steps as { op: string; urn: string }[];
    expect(preview.filter((s) => s.op !== "same").map((s) => s.urn.split("::").pop())).toEqual(["part-17"]);
    emu.clearRequests();
    await ws.must(["up", "--yes", "--skip-preview"]);
    expect(puts().map((r) => r.key)).toEqual(["stages/proj-many/many_b/part-17/b.json"]);
  });

  test("destroy removes every object and both stages", async () => {
    await ws.must(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toEqual([]);
    expect(emu.listObjects()).toEqual([]);
  });
});
