// examples/volumes-yaml, the program `npm run demo -- --yaml` runs, under the
// real CLI on the zillizcloud package: volume, files, import and merge from
// YAML, then a no-op preview and destroy. Needs `npm run build` first (the
// plugin runs dist/) and the YAML language host (scripts/pulumi-language-yaml).
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { yamlWorkspace } from "../helpers/yaml-workspace";
import { inspectCollection } from "../helpers/merge";

jest.setTimeout(15 * 60_000);

const EXAMPLES = path.join(__dirname, "..", "..", "examples");

describe("examples/volumes-yaml", () => {
  let emu: Emulator;
  let ws: any;
  const pulumi = (args: string[]) => ws.must(args);

  beforeAll(async () => {
    emu = await startEmulator();
    ws = await yamlWorkspace(path.join(EXAMPLES, "volumes-yaml"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "dataSource", path.join(EXAMPLES, "volumes", "data")]);
    await pulumi(["config", "set", "enrichSource", path.join(EXAMPLES, "volumes", "enrich")]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
  });

  test("up: volume, files, import and merge; then no change; destroy removes the files and the volume, and leaves the merged collection", async () => {
    await pulumi(["up", "--yes", "--skip-preview"]);
    const outputs = JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
    expect(outputs).toMatchObject({ volumeName: "quickstart_volume", fileCount: 2, importedRows: 6, mergedCollection: "quickstart_genres" });
    expect(emu.listObjects().map((o) => o.key.replace(/^.*quickstart_volume\//, ""))).toEqual(["data/part-1.json", "data/part-2.json", "enrich/genres.parquet"]);
    const merged = (await inspectCollection(emu, "in01-emulator/default/quickstart_genres"))!;
    expect(merged.fields.map((f) => f.name)).toEqual(expect.arrayContaining(["id", "genre", "rating"]));
    expect(merged.rows.filter((r) => r.genre !== null).length).toBeGreaterThan(0);

    await pulumi(["preview", "--expect-no-changes"]);
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects()).toEqual([]);
    expect(emu.listVolumeNames()).toEqual([]);
    expect(await inspectCollection(emu, "in01-emulator/default/quickstart_genres")).toBeDefined();
  });
});
