// Import jobs in the emulator, over real HTTP: files staged with an ordinary
// S3 client, imported by the SDKs' calls, counted from the bytes themselves.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { IMPORT_JOB_PATHS, importJobProgressSchema, listImportJobsDataSchema, type ImportJobProgress } from "../../provider/client/import-schemas";
import { API_ERROR_CODES } from "../../provider/client/api-codes";
import { EMULATOR_CLI, startEmulatorCli } from "../helpers/emulator-cli";
import { emulatorRuns } from "../helpers/emulator-runs";
import { jsonRows, npy, parquet } from "../helpers/data-files";
import { putObjects } from "../helpers/s3";

const run = promisify(execFile);
const CLUSTER = "in01-emulator";
const COLLECTION = "quickstart";

describe("import jobs", () => {
  const runs = emulatorRuns({ apiKey: "import-test-key" });
  const { start, stop, connect } = runs;

  /** Creates a stage and uploads `files` into it over S3 with the stage's temporary credentials. */
  async function stage(stageName: string, files: Record<string, string | Buffer>): Promise<void> {
    await runs.client!.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName });
    await putObjects(runs.client!, stageName, files);
  }

  async function post(pathname: string, body: unknown, headers: Record<string, string> = {}): Promise<{ code: number; message?: string; data?: unknown }> {
    const res = await fetch(runs.api.url + pathname, {
      method: "POST",
      headers: { Authorization: `Bearer ${runs.api.apiKey}`, "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    // Errors too come as HTTP 200 with a non-zero code, as the service's SDKs expect.
    expect(res.status).toBe(200);
    return (await res.json()) as { code: number; message?: string; data?: unknown };
  }

  /** Starts a job the way pymilvus v2.6.5+ does: every field sent, unset ones as "". */
  async function createJob(fields: Record<string, unknown>): Promise<string> {
    const body = { collectionName: COLLECTION, dbName: "", partitionName: "", files: null, objectUrl: "", objectUrls: null, clusterId: CLUSTER, projectId: "", regionId: "", accessKey: "", secretKey: "", token: "", volumeName: "", ...fields };
    const answer = await post(IMPORT_JOB_PATHS.create, body);
    expect(answer).toMatchObject({ code: 0, data: { jobId: expect.any(String) } });
    return (answer.data as { jobId: string }).jobId;
  }

  async function progress(jobId: string, where: Record<string, string> = { clusterId: CLUSTER }, pathname: string = IMPORT_JOB_PATHS.describe): Promise<ImportJobProgress> {
    const answer = await post(pathname, { jobId, ...where });
    expect(answer.code).toBe(0);
    return importJobProgressSchema.parse(answer.data);
  }

  /** Polls until the job ends; returns every answer seen, the last one terminal. */
  async function follow(
    jobId: string,
    where: Record<string, string> = { clusterId: CLUSTER },
    until: (p: ImportJobProgress) => boolean = (p) => p.state === "Completed" || p.state === "Failed",
  ): Promise<ImportJobProgress[]> {
    const seen: ImportJobProgress[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const p = await progress(jobId, where);
      seen.push(p);
      if (until(p)) return seen;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`job ${jobId} did not get there: ${JSON.stringify(seen.at(-1))}`);
  }

  test("JSON, Parquet and NumPy files import with the rows they hold", async () => {
    await start();
    const files = {
      "data/rows.json": jsonRows(3),
      "data/array.json": JSON.stringify([{ id: 1 }, { id: 2 }]),
      "data/books.parquet": await parquet(250),
      "numpy/id.npy": npy([7], 1),
      "numpy/vector.npy": npy([7, 4], 2),
      "wide.npy": npy([5, 3], 3),
    };
    await stage("books", files);
    const jobId = await createJob({ stageName: "books", dataPaths: [["data/rows.json"], ["data/array.json"], ["data/books.parquet"], ["numpy/"], ["wide.npy"]] });
    const last = (await follow(jobId)).at(-1)!;
    // The .npy files of one batch are the columns of the same 7 rows: counted once.
    expect(last).toMatchObject({ jobId, collectionName: COLLECTION, state: "Completed", progress: 100, importedRows: 3 + 2 + 250 + 7 + 5, totalRows: 267, reason: "" });
    expect(last.completeTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(last.fileSize).toBe(Object.values(files).reduce((n, b) => n + Buffer.byteLength(b), 0));
    expect(last.details.map((d) => [d.fileName, d.totalRows, d.importedRows, d.state, d.fileSize])).toEqual([
      ["data/rows.json", 3, 3, "Completed", Buffer.byteLength(files["data/rows.json"])],
      ["data/array.json", 2, 2, "Completed", Buffer.byteLength(files["data/array.json"])],
      ["data/books.parquet", 250, 250, "Completed", files["data/books.parquet"].length],
      ["numpy/id.npy", 7, 7, "Completed", files["numpy/id.npy"].length],
      ["numpy/vector.npy", 7, 7, "Completed", files["numpy/vector.npy"].length],
      ["wide.npy", 5, 5, "Completed", files["wide.npy"].length],
    ]);
    // getProgress (the REST reference's name) answers the same as describe (the SDKs').
    expect(await progress(jobId, { clusterId: CLUSTER }, IMPORT_JOB_PATHS.getProgress)).toEqual(last);
  });

  test("a job goes Pending, Importing, Completed at the set pace, progress and rows rising file by file", async () => {
    const rowsPerSecond = 250;
    const emu = await start({ importRowsPerSecond: rowsPerSecond });
    await stage("paced", { "a.parquet": await parquet(300), "b.json": jsonRows(200) });
    const jobId = await createJob({ volumeName: "paced", dataPaths: [["a.parquet"], ["b.json"]] });
    const seen = await follow(jobId);
    expect(seen[0].state).toBe("Pending");
    expect(seen.at(-1)).toMatchObject({ state: "Completed", progress: 100, importedRows: 500, totalRows: 500 });
    const importing = seen.filter((p) => p.state === "Importing");
    expect(importing.length).toBeGreaterThan(1);
    expect(new Set(importing.map((p) => p.progress)).size).toBeGreaterThan(1);
    for (const [i, p] of seen.entries()) if (i > 0) expect(p.importedRows!).toBeGreaterThanOrEqual(seen[i - 1].importedRows!);
    expect(importing.every((p) => p.progress < 100 && p.totalRows === 500)).toBe(true);
    // The first file finishes before the second starts.
    expect(importing.some((p) => p.details[0].state === "Completed" && p.details[1].importedRows === 0)).toBe(true);
    // The pace, on the emulator's own clock: from when it received the
    // first look that saw rows imported to when it finished answering the
    // first look that saw the job done. The rows between cannot have come
    // faster than the set rate, give or take the one step (25 rows: the
    // emulator advances every 100 ms) that k steps have over their k - 1
    // gaps, and a few rows for timers firing a millisecond early; nor, on
    // however loaded a machine, ten times slower.
    const looks = emu.requests().filter((r) => r.kind === "import:progress");
    expect(looks).toHaveLength(seen.length);
    const first = seen.findIndex((p) => p.importedRows! > 0);
    const rows = 500 - seen[first].importedRows!;
    const windowMs = looks.at(-1)!.endedMs! - looks[first].startedMs!;
    expect(rows).toBeLessThanOrEqual((rowsPerSecond * windowMs) / 1000 + 35);
    expect(rows).toBeGreaterThan((rowsPerSecond * windowMs) / 1000 / 10);
  });

  test("unknown clusters, collections, databases, stages and jobs are refused as the service does", async () => {
    await start({ collections: ["in01-other/books", "in01-other/analytics/events", "proj-1:aws-us-west-2/shared"] });
    await stage("known", { "a.json": jsonRows(1) });
    const base = { collectionName: "books", clusterId: "in01-other", stageName: "known", dataPaths: [["a.json"]] };
    const refused = async (body: object, code: number, message: RegExp, headers?: Record<string, string>) => {
      const answer = await post(IMPORT_JOB_PATHS.create, body, headers);
      expect(answer).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(answer.data).toBeUndefined();
    };
    // Only the collections named by the options exist: the default is gone once one is given.
    await refused({ ...base, clusterId: CLUSTER, collectionName: COLLECTION }, API_ERROR_CODES.clusterNotFound, /cluster in01-emulator does not exist/);
    await refused({ ...base, clusterId: "in01-nope" }, API_ERROR_CODES.clusterNotFound, /cluster in01-nope does not exist/);
    await refused({ ...base, collectionName: "films" }, API_ERROR_CODES.collectionNotFound, /collection films does not exist in database default of cluster in01-other/);
    await refused({ ...base, collectionName: "events" }, API_ERROR_CODES.collectionNotFound, /collection events does not exist in database default/);
    await refused({ ...base, stageName: "ghost" }, API_ERROR_CODES.sourceNotFound, /stage ghost does not exist/);
    await refused({ ...base, stageName: "", volumeName: "ghost" }, API_ERROR_CODES.sourceNotFound, /volume ghost does not exist/);
    await refused({ ...base, projectId: "proj-1", regionId: "aws-us-west-2" }, API_ERROR_CODES.malformedRequest, /projectId must not be given together with clusterId/);
    await refused({ ...base, clusterId: "" }, API_ERROR_CODES.malformedRequest, /clusterId is required/);
    await refused({ ...base, clusterId: "", projectId: "proj-1" }, API_ERROR_CODES.malformedRequest, /regionId is required together with projectId/);
    await refused({ ...base, collectionName: "" }, API_ERROR_CODES.malformedRequest, /collectionName must not be empty/);
    await refused({ ...base, dataPaths: [] }, API_ERROR_CODES.malformedRequest, /dataPaths must name at least one batch/);
    await refused({ ...base, dataPaths: [["../a.json"]] }, API_ERROR_CODES.malformedRequest, /dataPaths\.0\.0 must be a relative POSIX path/);
    await refused({ ...base, volumeName: "known" }, API_ERROR_CODES.malformedRequest, /stageName must not be given together with volumeName/);

    // The Java SDK's body: its builder's empty defaults, the key again as apiKey, and options.
    const java = { apiKey: "x", options: { sdk: "java", scene: "bulkWriter" }, clusterId: "in01-other", dbName: "", collectionName: "books", partitionName: "", volumeName: "known", dataPaths: [["a.json"]] };
    expect((await post(IMPORT_JOB_PATHS.create, java)).code).toBe(0);
    expect((await post(IMPORT_JOB_PATHS.list, { apiKey: "x", clusterId: "in01-other", projectId: "", regionId: "", pageSize: 10, currentPage: 1 })).code).toBe(0);
    // The database comes from the body or, as newer SDKs send it, the DB-Name header.
    const inDb = await post(IMPORT_JOB_PATHS.create, { ...base, collectionName: "events" }, { "DB-Name": "analytics" });
    expect(inDb.code).toBe(0);
    expect((await post(IMPORT_JOB_PATHS.create, { ...base, collectionName: "events", dbName: "analytics" })).code).toBe(0);
    // A project database, addressed by projectId + regionId; its jobs are not visible from a cluster.
    const pdb = await post(IMPORT_JOB_PATHS.create, { ...base, clusterId: "", projectId: "proj-1", regionId: "aws-us-west-2", collectionName: "shared" });
    expect(pdb.code).toBe(0);
    const pdbJob = (pdb.data as { jobId: string }).jobId;
    expect((await post(IMPORT_JOB_PATHS.describe, { jobId: pdbJob, projectId: "proj-1", regionId: "aws-us-west-2" })).code).toBe(0);
    expect(await post(IMPORT_JOB_PATHS.describe, { jobId: pdbJob, clusterId: "in01-other" })).toMatchObject({
      code: API_ERROR_CODES.jobNotFound,
      message: expect.stringMatching(/does not exist in cluster in01-other/),
    });
    expect(await post(IMPORT_JOB_PATHS.getProgress, { jobId: "job-nope", clusterId: "in01-other" })).toMatchObject({
      code: API_ERROR_CODES.jobNotFound,
      message: expect.stringMatching(/import job job-nope does not exist/),
    });
    expect(await post(IMPORT_JOB_PATHS.list, { clusterId: "in01-gone" })).toMatchObject({ code: API_ERROR_CODES.clusterNotFound });
  });

  test("a missing path or an unreadable file fails the job with a reason naming the file", async () => {
    await start();
    await stage("broken", {
      "ok.json": jsonRows(2),
      "bad.parquet": "this is not parquet",
      "bad.json": '{"rows": [',
      "cut.npy": npy([4]).subarray(0, 40),
      "short.npy": npy([4]).subarray(0, 8),
      "notes.csv": "id\n1\n",
      "cols/id.npy": npy([4]),
      "cols/vector.npy": npy([5, 2]),
    });
    const cases: Array<[string[][], RegExp]> = [
      [[["ok.json"], ["missing/1.parquet"]], /file missing\/1\.parquet does not exist in stage broken/],
      [[["empty-folder/"]], /folder empty-folder\/ does not exist or is empty in stage broken/],
      [[["bad.parquet"]], /cannot read file bad\.parquet: not a readable Parquet file/],
      [[["bad.json"]], /cannot read file bad\.json: not valid JSON/],
      [[["cut.npy"]], /cannot read file cut\.npy: \.npy header is cut off/],
      [[["short.npy"]], /cannot read file short\.npy: \.npy header is cut off/],
      [[["notes.csv"]], /cannot read file notes\.csv: unsupported file type/],
      [[["cols/"]], /the \.npy files of batch 0 \(cols\/id\.npy, cols\/vector\.npy\) do not have the same number of rows/],
    ];
    // A JSON file beside .npy files is refused at create, as the service refuses several files in one list (2100).
    const mixed = await post(IMPORT_JOB_PATHS.create, { collectionName: COLLECTION, clusterId: CLUSTER, stageName: "broken", dataPaths: [["ok.json", "cols/id.npy"]] });
    expect(mixed).toMatchObject({ code: 2100, message: expect.stringMatching(/dataPaths\[0\] holds "ok\.json" among 2 paths/) });
    for (const [dataPaths, reason] of cases) {
      const jobId = await createJob({ stageName: "broken", dataPaths });
      const last = (await follow(jobId)).at(-1)!;
      expect(last).toMatchObject({ state: "Failed", reason: expect.stringMatching(reason), importedRows: 0 });
      expect(last.completeTime).not.toBe("");
      expect(last.progress).toBeLessThan(100);
    }
  });

  test("an injected fault fails the next job part-way with its reason; the one after completes", async () => {
    const emu = await start({ importRowsPerSecond: 2000 });
    await stage("faulty", { "a.parquet": await parquet(1000) });
    emu.faults.add({ target: "import:job", atProgress: 40, reason: "the collection's disk quota is exceeded" });
    const failed = await createJob({ stageName: "faulty", dataPaths: [["a.parquet"]] });
    const seen = await follow(failed);
    expect(seen.at(-1)).toMatchObject({ state: "Failed", progress: 40, importedRows: 400, totalRows: 1000, reason: "the collection's disk quota is exceeded" });
    expect(seen.at(-1)!.details[0]).toMatchObject({ state: "Failed", importedRows: 400, reason: "the collection's disk quota is exceeded" });
    expect(seen.some((p) => p.state === "Importing" && p.importedRows! > 0)).toBe(true);
    const next = await createJob({ stageName: "faulty", dataPaths: [["a.parquet"]] });
    expect((await follow(next)).at(-1)).toMatchObject({ state: "Completed", importedRows: 1000 });
  });

  test("list returns the jobs of a cluster, newest first, by collection and page", async () => {
    await start({ collections: [`${CLUSTER}/${COLLECTION}`, `${CLUSTER}/films`, "in01-second/quickstart"] });
    await stage("lists", { "a.json": jsonRows(1) });
    const first = await createJob({ stageName: "lists", dataPaths: [["a.json"]] });
    const second = await createJob({ stageName: "lists", dataPaths: [["a.json"]], collectionName: "films" });
    const third = await createJob({ stageName: "lists", dataPaths: [["a.json"]] });
    await createJob({ stageName: "lists", dataPaths: [["a.json"]], clusterId: "in01-second" });
    await follow(third);

    const list = async (body: object) => {
      const answer = await post(IMPORT_JOB_PATHS.list, { clusterId: CLUSTER, ...body });
      expect(answer.code).toBe(0);
      return listImportJobsDataSchema.parse(answer.data);
    };
    const all = await list({ pageSize: 10, currentPage: 1 });
    expect(all).toMatchObject({ count: 3, currentPage: 1, pageSize: 10 });
    expect(all.records.map((r) => [r.jobId, r.collectionName])).toEqual([
      [third, COLLECTION],
      [second, "films"],
      [first, COLLECTION],
    ]);
    expect(all.records[0]).toMatchObject({ state: "Completed", progress: 100 });
    expect((await list({ collectionName: COLLECTION })).records.map((r) => r.jobId)).toEqual([third, first]);
    expect(await list({ pageSize: 2, currentPage: 2 })).toMatchObject({ count: 3, records: [{ jobId: first }] });
  });

  test("a restart mid-job keeps the job and resumes it; after stop() nothing runs, and the process can exit", async () => {
    await start({ importRowsPerSecond: 200 });
    await stage("slow", { "a.parquet": await parquet(2000) });
    const jobId = await createJob({ stageName: "slow", dataPaths: [["a.parquet"]] });
    const mid = (await follow(jobId, undefined, (p) => p.state === "Importing" && p.importedRows! >= 40)).at(-1)!;
    await stop();

    // Another process resumes the job, stops, and must then exit on its own:
    // a job runner that kept stepping after stop() would keep it alive.
    const script = `
      const { startEmulator } = require(${JSON.stringify(require.resolve("../../dist/provider/emulator"))});
      (async () => {
        const emu = await startEmulator({ dataDir: process.argv[1], apiKey: "k", importRowsPerSecond: 200 });
        await new Promise((r) => setTimeout(r, 300));
        await emu.stop();
      })();`;
    const started = Date.now();
    await run(process.execPath, ["-e", script, runs.dataDir], { timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);

    await start({ importRowsPerSecond: 100_000 });
    const resumed = await progress(jobId);
    expect(resumed.state).toBe("Importing");
    expect(resumed.importedRows).toBeGreaterThan(mid.importedRows!);
    expect((await follow(jobId)).at(-1)).toMatchObject({ state: "Completed", importedRows: 2000, totalRows: 2000 });
  });

  test("the CLI takes --collection and the pace, names its default in --help, and imports Parquet from the built package", async () => {
    const help = await run(process.execPath, [EMULATOR_CLI, "--help"]);
    expect(help.stdout).toMatch(/--collection <clusterId>\/\[<dbName>\/\]<collectionName>/);
    expect(help.stdout).toMatch(/with none, in01-emulator\/quickstart/);
    const bad = await run(process.execPath, [EMULATOR_CLI, "--port", "0", "--data-dir", runs.dataDir, "--api-key", "k", "--collection", "no-slash"]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--collection "no-slash": expected <clusterId>\/<collectionName>/);

    const { url, child, exited } = await startEmulatorCli(["--port", "0", "--data-dir", runs.dataDir, "--api-key", "cli-key", "--collection", "in01-cli/books", "--import-rows-per-second", "50000"]);
    try {
      connect({ url, apiKey: "cli-key" });
      await stage("cli", { "a.parquet": await parquet(120) });
      const created = await post(IMPORT_JOB_PATHS.create, { clusterId: "in01-cli", collectionName: "books", stageName: "cli", dataPaths: [["a.parquet"]] });
      const jobId = (created.data as { jobId: string }).jobId;
      expect((await follow(jobId, { clusterId: "in01-cli" })).at(-1)).toMatchObject({ state: "Completed", importedRows: 120 });
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
