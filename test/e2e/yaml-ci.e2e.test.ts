// examples/ci-yaml, the YAML variant of the CI example, under the real CLI
// as its workflow runs it: the package found through the program's own
// relative `packages:` path (.zillizcloud/plugin, where the workflow checks
// this repository out), the stage named by config, the API key and endpoint
// only in the environment. A branch's first up, an up after one file
// changed and one was added, a no-op preview, and the destroy a deleted
// branch runs. Needs `npm run build` first (the plugin runs dist/) and the
// YAML language host (scripts/pulumi-language-yaml).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { yamlWorkspace } from "../helpers/yaml-workspace";

jest.setTimeout(15 * 60_000);

const REPO = path.join(__dirname, "..", "..");
const STAGE = "ci_feature_add_vectors";

describe("examples/ci-yaml", () => {
  let emu: Emulator;
  let ws: any;
  let data: string;
  const pulumi = (args: string[]) => ws.must(args);
  const keys = () => emu.listObjects().map((o) => o.key.replace(/^.*\/batches\//, "batches/")).sort();

  beforeAll(async () => {
    emu = await startEmulator();
    data = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-ci-yaml-data-"));
    fs.cpSync(path.join(REPO, "examples", "quickstart", "data"), data, { recursive: true });
    ws = await yamlWorkspace(path.join(REPO, "examples", "ci-yaml"), {
      stack: "ci-feature-add-vectors",
      env: { ZILLIZCLOUD_ENDPOINT: emu.url, ZILLIZCLOUD_API_KEY: emu.apiKey },
    });
    // The workflow's second checkout: this repository, built, at .zillizcloud.
    fs.symlinkSync(REPO, path.join(ws.dir, ".zillizcloud"), "dir");
    await ws.init();
    await pulumi(["config", "set", "stageName", STAGE]);
    await pulumi(["config", "set", "projectId", "proj-ci"]);
    await pulumi(["config", "set", "source", data]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    if (data) fs.rmSync(data, { recursive: true, force: true });
  });

  test("up, an up that sends only what changed, no change, destroy; the key in neither state nor output", async () => {
    fs.writeFileSync(path.join(data, "scratch.tmp"), "excluded by **/*.tmp");
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toEqual([STAGE]);
    expect(keys()).toEqual(["batches/rows-1.json", "batches/rows-2.json", "batches/vector.npy"]);
    const first = JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
    expect(first).toEqual({ stage_name: STAGE, dataPaths: [["batches/rows-1.json"], ["batches/rows-2.json"], ["batches/vector.npy"]] });

    // A merge that changes one file and adds one: two PUTs, nothing else sent.
    fs.appendFileSync(path.join(data, "rows-2.json"), "\n");
    fs.writeFileSync(path.join(data, "rows-3.json"), JSON.stringify({ rows: [] }));
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    const puts = emu
      .requests()
      .filter((r) => (r.kind === "s3:put" || r.kind === "s3:complete") && r.status === 200)
      .map((r) => r.key!.replace(/^.*\/batches\//, "batches/"));
    expect(puts.sort()).toEqual(["batches/rows-2.json", "batches/rows-3.json"]);
    expect(keys()).toEqual(["batches/rows-1.json", "batches/rows-2.json", "batches/rows-3.json", "batches/vector.npy"]);

    await pulumi(["preview", "--expect-no-changes"]);

    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects()).toEqual([]);
    expect(emu.listStageNames()).toEqual([]);

    const state = JSON.stringify(JSON.parse((await pulumi(["stack", "export"])).stdout));
    expect(state).not.toContain(emu.apiKey);
    expect(ws.transcript()).not.toContain(emu.apiKey);
  });
});
