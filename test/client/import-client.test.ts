// The import-job calls over real HTTP against the emulator: what goes on the
// wire (the DB-Name header, the fallback to describe) and what is retried.
import { ImportJobClient, StageClient } from "../../provider/client";
import { createImportJobDataSchema, IMPORT_JOB_PATHS, importJobProgressSchema } from "../../provider/client/import-schemas";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizApiError } from "../../provider/errors";
import { jsonRows } from "../helpers/data-files";
import { putObjects } from "../helpers/s3";

const CLUSTER = { clusterId: "in01-emulator" };

describe("ImportJobClient", () => {
  let emu: Emulator;
  let rest: StageClient;
  let jobs: ImportJobClient;

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-emulator/quickstart", "in01-emulator/analytics/books"] });
    rest = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    await rest.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" });
    await putObjects(rest, "raw", { "data/a.json": jsonRows(3) });
  });
  afterAll(async () => {
    await rest?.close();
    await emu?.stop();
  });
  beforeEach(() => {
    jobs = new ImportJobClient(rest);
    emu.faults.clear();
    emu.clearRequests();
  });

  const create = (extra: object = {}) => jobs.create({ ...CLUSTER, collectionName: "quickstart", stageName: "raw", dataPaths: [["data/a.json"]], ...extra });

  test("the database reaches the service: a collection of another database is found by dbName", async () => {
    await expect(create({ collectionName: "books" })).rejects.toThrow(/collection books does not exist in database default/);
    const jobId = await create({ collectionName: "books", dbName: "analytics" });
    const page = await jobs.list(CLUSTER, { dbName: "analytics" });
    expect(page.records.map((r) => r.jobId)).toEqual([jobId]);
    expect((await jobs.list(CLUSTER, { collectionName: "quickstart" })).records.map((r) => r.jobId)).not.toContain(jobId);
  });

  test("progress asks describe (the SDKs' name), then get_progress (Node SDK), then getProgress (docs), each once a service says the previous does not exist", async () => {
    const jobId = await create();
    emu.clearRequests();
    expect((await jobs.progress(CLUSTER, jobId)).jobId).toBe(jobId);
    expect(emu.requests().map((r) => r.path)).toEqual([IMPORT_JOB_PATHS.describe]);
    // A service without a name answers with a real 404, as self-hosted Milvus does for an unknown path.
    emu.faults.add({ target: "import:progress", status: 404, count: 2 });
    emu.clearRequests();
    const p = await jobs.progress(CLUSTER, jobId);
    expect(p).toMatchObject({ jobId, collectionName: "quickstart" });
    await jobs.progress(CLUSTER, jobId);
    expect(emu.requests().map((r) => [r.path, r.status])).toEqual([
      [IMPORT_JOB_PATHS.describe, 404],
      [IMPORT_JOB_PATHS.getProgressSnake, 404],
      [IMPORT_JOB_PATHS.getProgress, 200],
      [IMPORT_JOB_PATHS.getProgress, 200],
    ]);
  });

  test("the emulator answers progress under all three names, and the answer may say jobID", async () => {
    const jobId = await create();
    for (const path of [IMPORT_JOB_PATHS.describe, IMPORT_JOB_PATHS.getProgressSnake, IMPORT_JOB_PATHS.getProgress]) {
      const res = await fetch(emu.url + path, {
        method: "POST",
        headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ ...CLUSTER, jobId }),
      });
      expect(await res.json()).toMatchObject({ code: 0, data: { jobId } });
    }
    expect(importJobProgressSchema.parse({ jobID: "job-1", collectionName: "c", state: "Pending", progress: 0 }).jobId).toBe("job-1");
    expect(createImportJobDataSchema.parse({ jobID: "job-2" })).toEqual({ jobId: "job-2" });
  });

  test("a job the service does not know is an error about the job, not a reason to switch calls", async () => {
    const err = await jobs.progress(CLUSTER, "job-nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizApiError);
    expect((err as ZillizApiError).apiMessage).toMatch(/import job job-nope does not exist/);
    await jobs.progress(CLUSTER, "job-nope").catch(() => undefined);
    expect(emu.requests().every((r) => r.path === IMPORT_JOB_PATHS.describe)).toBe(true);

  });

  test("create is retried after 503 and 429 (nothing was started) but not after a 500 (a job may have started)", async () => {
    emu.faults.add({ target: "import:create", status: 503 });
    emu.faults.add({ target: "import:create", status: 429 });
    await create();
    expect(emu.requests().filter((r) => r.kind === "import:create").map((r) => r.status)).toEqual([503, 429, 200]);

    emu.clearRequests();
    emu.faults.add({ target: "import:create", status: 500 });
    const err = await create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizApiError);
    expect((err as ZillizApiError).status).toBe(500);
    expect(emu.requests().filter((r) => r.kind === "import:create")).toHaveLength(1);
  });

  test("progress and list, which change nothing, are retried after a 500", async () => {
    const jobId = await create();
    emu.clearRequests();
    emu.faults.add({ target: "import:progress", status: 500 });
    emu.faults.add({ target: "import:list", status: 500 });
    expect((await jobs.progress(CLUSTER, jobId)).jobId).toBe(jobId);
    expect((await jobs.list(CLUSTER)).records.length).toBeGreaterThan(0);
    const statuses = (kind: string) => emu.requests().filter((r) => r.kind === kind).map((r) => r.status);
    expect(statuses("import:progress")).toEqual([500, 200]);
    expect(statuses("import:list")).toEqual([500, 200]);
  });
});
