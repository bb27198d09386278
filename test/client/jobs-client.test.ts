// The merge and jobs calls against the emulator: the wire's string progress
// becomes a number, a merge is started at most once when the answer is
// ambiguous, and retried when the failure shows nothing was started.
import { JobsClient, jobSchema, StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizApiError } from "../../provider/errors";

describe("JobsClient", () => {
  let emu: Emulator;
  let rest: StageClient;
  let jobs: JobsClient;
  const req = { clusterId: "in01-emulator", collectionName: "quickstart", destCollectionName: "q2", mergeField: "id", newFields: [{ fieldName: "flag", dataType: "BOOL" as const }] };

  beforeAll(async () => {
    emu = await startEmulator();
    rest = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    jobs = new JobsClient(rest);
  });
  afterAll(async () => {
    await rest.close();
    await emu.stop();
  });
  beforeEach(() => {
    emu.faults.clear();
    emu.clearRequests();
  });
  const served = () => emu.requests().filter((r) => r.kind === "merge:create");

  test("merge returns the job id; describe parses the job with progress as a number", async () => {
    const jobId = await jobs.merge(req);
    expect(jobId).toMatch(/^job-/);
    const job = await jobs.describe(jobId);
    expect(job).toMatchObject({ jobId, type: "MERGE", status: expect.stringMatching(/PENDING|IN_PROGRESS|FAILED/) });
    expect(typeof job.progress).toBe("number");
  });

  test("a 500 on merge is not retried (a second merge could start), a 503 is (nothing was started)", async () => {
    emu.faults.add({ target: "merge:create", status: 500 });
    await expect(jobs.merge(req)).rejects.toBeInstanceOf(ZillizApiError);
    expect(served()).toHaveLength(1);
    emu.clearRequests();
    emu.faults.add({ target: "merge:create", status: 503 });
    await expect(jobs.merge(req)).resolves.toMatch(/^job-/);
    expect(served().map((r) => r.status)).toEqual([503, 200]);
  });

  test("an unknown job is a not-found error naming it", async () => {
    const err = (await jobs.describe("job-nope").catch((e: unknown) => e)) as ZillizApiError;
    expect(err).toBeInstanceOf(ZillizApiError);
    expect(err.apiMessage).toBe("job job-nope does not exist");
  });

  test("the job schema takes the service's shapes: string or number progress, null times; refuses an unknown status", () => {
    expect(jobSchema.parse({ jobId: "j", type: "X", status: "IN_PROGRESS", progress: "37", startTime: null, endTime: null, reason: null })).toEqual({
      jobId: "j",
      type: "X",
      status: "IN_PROGRESS",
      progress: 37,
      startTime: "",
      endTime: "",
      reason: "",
    });
    expect(jobSchema.parse({ jobId: "j", status: "SUCCESSFUL", progress: 100 }).progress).toBe(100);
    expect(jobSchema.safeParse({ jobId: "j", status: "DONE", progress: "1" }).success).toBe(false);
    expect(jobSchema.safeParse({ jobId: "j", status: "PENDING", progress: "a lot" }).success).toBe(false);
  });
});
