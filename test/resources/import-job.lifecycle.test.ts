// ImportJob's provider against the emulator, driven as the engine drives it:
// check, diff, create, update, read, delete, with real files in a real stage
// and jobs that really run (at the emulator's pace).
import { StageClient } from "../../provider/client";
import type { Emulator } from "../../provider/emulator";
import { ZillizImportError, ZillizValidationError } from "../../provider/errors";
import { ImportJobOutputs } from "../../provider/resources/import-job-inputs";
import { jsonRows, parquet } from "../helpers/data-files";
import { afresh, checkedInputs, providerOnEmulator, type ProviderOnEmulator } from "../helpers/provider";
import { putObjects } from "../helpers/s3";

const __provider = "serialized provider text";
const base = { __provider, clusterId: "in01-emulator", collectionName: "quickstart", stageName: "raw" };

describe("ImportJob lifecycle", () => {
  let emu: Emulator, rest: StageClient, provider: ProviderOnEmulator["provider"], close: () => Promise<void>;
  /** What the provider told the user (stderr under the engine). */
  let lines: string[];

  beforeAll(async () => {
    // 500 rows a second: a 2,000-row file takes about four seconds, long enough to time out on.
    const emulator = { importRowsPerSecond: 500, collections: ["in01-emulator/quickstart", "proj-1:aws-us-west-2/books"] };
    ({ emu, client: rest, provider, said: lines, close } = await providerOnEmulator("importJob", { emulator }));
    await rest.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" });
    await putObjects(rest, "raw", {
      "data/a.json": jsonRows(3),
      "data/b.parquet": await parquet(250),
      "data/big.parquet": await parquet(2000),
      "data/c.json": jsonRows(7),
      "data/broken.json": "{ not json",
    });
  });
  afterAll(() => close?.());
  beforeEach(() => afresh(emu, lines));

  const creates = () => emu.requests().filter((r) => r.kind === "import:create" && r.code === 0);

  const checked = (news: Record<string, unknown>) => checkedInputs(provider, news);

  test("create starts one job and waits until it is Completed; the outputs carry its numbers", async () => {
    const inputs = await checked({ ...base, dataPaths: [["data/a.json"], ["data/b.parquet"]] });
    const { id, outs } = await provider.create(inputs);
    expect(id).toMatch(/^job-/);
    expect(outs).toMatchObject({ jobId: id, state: "Completed", progress: 100, importedRows: 253, totalRows: 253, batchCount: 2, pathCount: 2 });
    expect(outs.fileSize).toBeGreaterThan(0);
    expect(outs.completeTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(creates()).toHaveLength(1);
    expect(lines.join("\n")).toContain(`ImportJob quickstart <- stage raw: job ${id} Completed: 253 rows imported`);

    // The same inputs again: nothing to do.
    expect(await provider.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    // read follows the job by id.
    expect((await provider.read(id, outs)).props).toEqual(outs);
  });

  test("a Failed job fails create with the service's reason and the per-file details, and is recorded; the next up starts a new job", async () => {
    emu.faults.add({ target: "import:job", atProgress: 40, reason: "field vector: dimension mismatch" });
    const inputs = await checked({ ...base, dataPaths: [["data/b.parquet"]] });
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as ZillizImportError & { id: string; properties: ImportJobOutputs & { __provider: string }; reasons: string[] };
    expect(err).toBeInstanceOf(ZillizImportError);
    expect(err.message).toMatch(/job job-\S+ Failed at 40%: field vector: dimension mismatch/);
    expect(err.message).toMatch(/data\/b\.parquet: Failed \d+% \(\d+ of 250 rows\): field vector: dimension mismatch/);
    // A partial failure: the engine records the job, provider included.
    expect(err.id).toBe(err.jobId);
    expect(err.properties).toMatchObject({ jobId: err.jobId, state: "Failed", reason: "field vector: dimension mismatch", __provider });
    expect(err.reasons).toEqual([err.message]);

    const diff = await provider.diff(err.id, err.properties, inputs);
    expect(diff).toMatchObject({ changes: true, replaces: ["jobId"] });
    expect(lines.join("\n")).toMatch(/Failed \(field vector: dimension mismatch\); this update starts a new job/);
    const again = await provider.create(inputs);
    expect(again.outs).toMatchObject({ state: "Completed", importedRows: 250 });
    expect(again.id).not.toBe(err.id);
  });

  test("a timeout records the running job; the next up follows that same job to the end instead of starting another", async () => {
    const news = { ...base, dataPaths: [["data/big.parquet"]], timeoutSeconds: 1 };
    const inputs = await checked(news);
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as ZillizImportError & { id: string; properties: ImportJobOutputs };
    expect(err).toBeInstanceOf(ZillizImportError);
    expect(err.message).toMatch(/is still (Pending|Importing) \d+% .*after timeoutSeconds=1/);
    expect(err.message).toMatch(/next `pulumi up` follows this same job/);
    expect(err.properties).toMatchObject({ jobId: err.id, state: expect.stringMatching(/Pending|Importing/) });

    // refresh follows the job by id.
    const refreshed = (await provider.read(err.id, err.properties)).props as ImportJobOutputs;
    expect(refreshed.jobId).toBe(err.id);
    expect(refreshed.totalRows).toBe(2000);

    // The next up, with a longer timeout: an update (no replacement) that follows the recorded job.
    const later = await checked({ ...news, timeoutSeconds: 120 });
    expect(await provider.diff(err.id, err.properties, later)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    const { outs } = await provider.update(err.id, err.properties, later);
    expect(outs).toMatchObject({ jobId: err.id, state: "Completed", importedRows: 2000, timeoutSeconds: 120 });
    expect(creates()).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/is still (Pending|Importing); this update follows it \(no second job\)/);
  });

  test("a job started but not followable (progress calls failing) is still recorded; the next up follows it, no second job", async () => {
    emu.faults.add({ target: "import:progress", count: 100, status: 500 });
    const inputs = await checked({ ...base, dataPaths: [["data/c.json"]] });
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as Error & { id: string; properties: ImportJobOutputs & { __provider: string } };
    expect(err).toBeInstanceOf(Error);
    expect(err.id).toMatch(/^job-/);
    expect(err.properties).toMatchObject({ jobId: err.id, state: "Pending", __provider });
    expect(creates()).toHaveLength(1);

    emu.faults.clear();
    const diff = await provider.diff(err.id, err.properties, inputs);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const { outs } = await provider.update(err.id, err.properties, inputs);
    expect(outs).toMatchObject({ jobId: err.id, state: "Completed", importedRows: 7 });
    expect(creates()).toHaveLength(1);
  });

  test("new files are a new job that imports exactly them; delete removes nothing and calls nothing", async () => {
    const first = await provider.create(await checked({ ...base, dataPaths: [["data/a.json"]] }));
    const news = await checked({ ...base, dataPaths: [["data/c.json"]] });
    expect(await provider.diff(first.id, first.outs, news)).toEqual({ changes: true, replaces: ["dataPaths"], deleteBeforeReplace: false });
    const second = await provider.create(news);
    expect(second.id).not.toBe(first.id);
    expect(second.outs).toMatchObject({ importedRows: 7, totalRows: 7 });

    emu.clearRequests();
    await provider.delete(first.id, first.outs);
    expect(emu.requests()).toEqual([]);
    // A different collection, partition, database, source or trigger is a new job too.
    for (const change of [{ collectionName: "other" }, { partitionName: "p1" }, { dbName: "db2" }, { stageName: "raw2" }, { trigger: "v2" }]) {
      const diff = await provider.diff(second.id, second.outs, { ...news, ...change });
      expect(diff.replaces).toEqual([Object.keys(change)[0]]);
    }
  });

  test("waitForCompletion: false returns once the job started; read and refresh follow it later", async () => {
    const inputs = await checked({ ...base, dataPaths: [["data/big.parquet"]], waitForCompletion: false });
    const { id, outs } = await provider.create(inputs);
    expect(outs.state).toMatch(/Pending|Importing/);
    // A running job the program does not wait for is no change: refresh follows it.
    expect((await provider.diff(id, outs, inputs)).changes).toBe(false);
    let props = outs as ImportJobOutputs;
    for (let i = 0; i < 100 && props.state !== "Completed"; i++) {
      await new Promise((r) => setTimeout(r, 200));
      props = (await provider.read(id, props)).props as ImportJobOutputs;
    }
    expect(props).toMatchObject({ state: "Completed", importedRows: 2000, waitForCompletion: false });
  });

  test("a volume in a project database: projectId + regionId address it", async () => {
    await fetch(`${emu.url}/v2/volumes/create`, {
      method: "POST",
      headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "vol" }),
    });
    await putObjects(rest, "vol", { "in/1.json": jsonRows(4) });
    const inputs = await checked({ __provider, projectId: "proj-1", regionId: "aws-us-west-2", collectionName: "books", volumeName: "vol", dataPaths: [["in/"]] });
    const { outs } = await provider.create(inputs);
    expect(outs).toMatchObject({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "vol", state: "Completed", importedRows: 4 });
  });

  test("allowEmpty: an empty dataPaths starts no job and records that", async () => {
    const refused = await provider.check({}, { ...base, dataPaths: [] });
    expect(refused.failures).toEqual([{ property: "dataPaths", reason: expect.stringMatching(/dataPaths is empty: .*set allowEmpty: true/) }]);
    const { id, outs } = await provider.create(await checked({ ...base, dataPaths: [], allowEmpty: true }));
    expect(id).toBe("no-job");
    expect(outs).toMatchObject({ jobId: "", state: "Skipped", importedRows: 0 });
    expect(creates()).toEqual([]);
  });

  describe("bad input is refused with the field and the fix, and starts nothing", () => {
    test.each([
      [{ collectionName: undefined }, "collectionName", /is required: the collection to import into/],
      [{ clusterId: undefined }, "clusterId", /is required: the cluster .* or projectId and regionId/],
      [{ projectId: "proj-1", regionId: "aws-us-west-2" }, "projectId", /must not be given together with clusterId/],
      [{ projectId: "proj-1" }, "projectId", /must not be given together with clusterId/],
      [{ clusterId: undefined, projectId: "proj-1" }, "regionId", /is required together with projectId/],
      [{ volumeName: "vol" }, "stageName", /must not be given together with volumeName/],
      [{ stageName: undefined }, "volumeName", /is required: the volume the files are in/],
      [{ dataPaths: [["../up.json"]] }, "dataPaths.0.0", /relative POSIX path/],
      [{ dataPaths: [[]] }, "dataPaths.0", /at least one path/],
      [{ timeoutSeconds: 0 }, "timeoutSeconds", /at least 1/],
    ])("%j -> %s", async (change, property, reason) => {
      const { failures } = await provider.check({}, { ...base, dataPaths: [["data/a.json"]], ...change });
      expect(failures).toEqual([{ property, reason: expect.stringMatching(reason) }]);
    });

    test("a path that is not in the stage names dataPaths[i][j]", async () => {
      const inputs = await checked({ ...base, dataPaths: [["data/a.json"], ["data/missing.npy"]] });
      const err = await provider.create(inputs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizValidationError);
      expect((err as ZillizValidationError).field).toBe("dataPaths[1][0]");
      expect((err as Error).message).toMatch(/data\/missing\.npy is not in stage raw: upload it first/);
      const folder = await provider.create(await checked({ ...base, dataPaths: [["nothing/"]] })).catch((e: unknown) => e);
      expect((folder as ZillizValidationError).field).toBe("dataPaths[0][0]");
      expect(creates()).toEqual([]);
    });

    test("a file the service cannot read fails the job, and the error names the input that holds it", async () => {
      const inputs = await checked({ ...base, dataPaths: [["data/a.json"], ["data/broken.json"]] });
      const err = await provider.create(inputs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizImportError);
      expect((err as Error).message).toMatch(/Failed at 0%: cannot read file data\/broken\.json: not valid JSON/);
      expect((err as Error).message).toMatch(/The input to fix: dataPaths\[1\]\[0\] \(data\/broken\.json\)\./);
    });

    test("a source that does not exist names volumeName or stageName", async () => {
      const noStage = await provider.create(await checked({ ...base, stageName: "nope", dataPaths: [["a.json"]] })).catch((e: unknown) => e);
      expect(noStage).toMatchObject({ field: "stageName", message: expect.stringMatching(/stage nope does not exist/) });
      const noVolume = await provider.create(await checked({ ...base, stageName: undefined, volumeName: "nope", dataPaths: [["a.json"]] })).catch((e: unknown) => e);
      expect(noVolume).toMatchObject({ field: "volumeName", message: expect.stringMatching(/volume nope does not exist/) });
      expect(creates()).toEqual([]);
    });

    test("a collection the service does not know: its refusal says which input to check", async () => {
      const err = await provider.create(await checked({ ...base, dataPaths: [["data/a.json"]], collectionName: "nope" })).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/collection nope does not exist.*Check collectionName/);
    });

    test("an external volume: a bucket path outside it is refused; one inside it is told its relative form", async () => {
      const res = await fetch(`${emu.url}/v2/volumes/create`, {
        method: "POST",
        headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "ext", type: "EXTERNAL", storageIntegrationId: "si-1", path: "vectors/" }),
      });
      expect(((await res.json()) as { code: number }).code).toBe(0);
      const ext = { ...base, stageName: undefined, volumeName: "ext" };
      const outside = await provider.create(await checked({ ...ext, dataPaths: [["s3://other-bucket/x.parquet"]] })).catch((e: unknown) => e);
      expect(outside).toMatchObject({ field: "dataPaths[0][0]", message: expect.stringMatching(/outside external volume ext \(path vectors\/\)/) });
      const inside = await provider.create(await checked({ ...ext, dataPaths: [["s3://my-bucket/vectors/2024/x.parquet"]] })).catch((e: unknown) => e);
      expect(inside).toMatchObject({ field: "dataPaths[0][0]", message: expect.stringMatching(/write "2024\/x\.parquet"/) });
      expect(creates()).toEqual([]);
    });
  });
});
