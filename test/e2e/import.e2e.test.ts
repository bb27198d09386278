// ImportJob under the real Pulumi CLI against the emulator: Volume ->
// VolumeFiles -> ImportJob; a second up after one new Parquet file imports exactly that
// file's rows; a timed-out job is followed, not started again, by the next up.
import * as path from "node:path";
import { IMPORT_JOB_PATHS, listImportJobsDataSchema } from "../../provider/client/import-schemas";
import { startEmulator, Emulator } from "../../provider/emulator";
import { jsonRows, parquet } from "../helpers/data-files";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

// Plain JS shared with `npm run demo`.
const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

describe("ImportJob end to end under the Pulumi CLI", () => {
  let emu: Emulator;
  let data: string;
  let ws: any;
  const pulumi = (args: string[], opts?: object) => ws.must(args, opts);
  const outputs = async () => JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
  /** Jobs the emulator ran, newest first. */
  async function jobs() {
    const res = await fetch(emu.url + IMPORT_JOB_PATHS.list, {
      method: "POST",
      headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ clusterId: "in01-emulator", pageSize: 100 }),
    });
    return listImportJobsDataSchema.parse(((await res.json()) as { data: unknown }).data).records;
  }

  beforeAll(async () => {
    emu = await startEmulator();
    data = await mkTmp("zstages-e2e-import-");
    await writeTree(data, { "a.parquet": await parquet(300), "b.json": jsonRows(5) });
    ws = createWorkspace(path.join(__dirname, "import-program"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "volumeName", "e2e_import"]);
    await pulumi(["config", "set", "source", data]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    await rmTmp(data);
  });

  test("1. up creates the volume, uploads the files and imports every row", async () => {
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout + up.stderr).toMatch(/Completed: 305 rows imported/);
    expect(await outputs()).toMatchObject({ state: "Completed", importedRows: 305, totalRows: 305 });
    expect(await jobs()).toHaveLength(1);
  });

  test("2. one new Parquet file: the next up imports exactly its rows, in one new job", async () => {
    await writeTree(data, { "c.parquet": await parquet(123) });
    // A preview first: the job's packed paths are not known until the files are up.
    const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout) as { steps: { op: string; urn: string }[] };
    expect(preview.steps.filter((s) => s.urn.endsWith("::new-rows")).map((s) => s.op)).toContain("replace");
    await pulumi(["up", "--yes", "--skip-preview"]);
    const out = await outputs();
    expect(out).toMatchObject({ changedDataPaths: [["incoming/c.parquet"]], state: "Completed", importedRows: 123, totalRows: 123 });
    const all = await jobs();
    expect(all).toHaveLength(2);
    expect(all[0].jobId).toBe(out.jobId);
  });

  test("3. nothing changed: no job", async () => {
    const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout).steps as { op: string }[];
    expect(preview.every((s) => s.op === "same")).toBe(true);
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(await jobs()).toHaveLength(2);
  });

  test("3b. paths recorded as a list (before packing) and then sent packed: no change, no job; the state keeps them packed", async () => {
    const jobInputs = async () => JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::new-rows")).inputs;
    expect(await jobInputs()).toMatchObject({ dataPathsPacked: expect.stringMatching(/^zp1:/) });
    await pulumi(["config", "set", "listed", "true"]);
    await pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    const listed = await jobInputs();
    expect(listed.dataPaths).toEqual([["incoming/c.parquet"]]);
    expect(listed).not.toHaveProperty("dataPathsPacked");

    await pulumi(["config", "rm", "listed"]);
    await pulumi(["preview", "--expect-no-changes"]);
    await pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    const packed = await jobInputs();
    expect(packed).not.toHaveProperty("dataPaths");
    expect(packed.dataPathsPacked).toMatch(/^zp1:/);
    expect(await jobs()).toHaveLength(2);
  });

  test("4. a job that outlives the timeout fails the up but is recorded; the next up follows it instead of importing again", async () => {
    // 8,000 rows at the emulator's 2,000 a second: about four seconds.
    await writeTree(data, { "d.parquet": await parquet(8000) });
    await pulumi(["config", "set", "--path", "timeoutSeconds", "1"]);
    const failed = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/after timeoutSeconds=1[\s\S]*follows this same job/);
    const state = JSON.parse((await pulumi(["stack", "export"])).stdout);
    const recorded = state.deployment.resources.find((r: { type: string }) => r.type.endsWith(":ImportJob"));
    expect(recorded.outputs.state).toMatch(/Pending|Importing/);
    expect(await jobs()).toHaveLength(3);

    await pulumi(["config", "set", "--path", "timeoutSeconds", "120"]);
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout + up.stderr).toMatch(/this update follows it \(no second job\)/);
    expect(await outputs()).toMatchObject({ jobId: recorded.id, state: "Completed", importedRows: 8000 });
    expect(await jobs()).toHaveLength(3);
  });

  test("5. destroy removes the files and the volume; the imported rows, and the jobs, stay", async () => {
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual([]);
    expect(emu.listObjects()).toEqual([]);
    expect((await jobs()).map((j) => j.state)).toEqual(["Completed", "Completed", "Completed"]);
    expect(ws.transcript()).not.toContain(emu.apiKey);
  });
});
