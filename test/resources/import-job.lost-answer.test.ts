// An import create whose answer is lost (the emulator carries the request
// out, then resets the connection; or resets or stalls before): create is
// never sent twice, the provider finds the job that create started and
// follows it, and when it cannot tell it says so, records state Unknown, and
// the next up looks again before it starts anything.
import type * as pulumi from "@pulumi/pulumi";
import { ImportJobClient, StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizApiError, ZillizImportError, ZillizTransportError, ZillizValidationError } from "../../provider/errors";
import { ImportJobOutputs } from "../../provider/resources/import-job-inputs";
import { mayHaveStarted, sameFiles } from "../../provider/resources/import-job-recovery";
import { ProviderContext } from "../../provider/resources/provider-context";
import { jsonRows } from "../helpers/data-files";
import { afresh, checkedInputs, configuredProvider, serviceConfig } from "../helpers/provider";
import { putObjects } from "../helpers/s3";

const __provider = "serialized provider text";
const target = { clusterId: "in01-emulator" };
const base = { __provider, ...target, collectionName: "quickstart", stageName: "raw" };
type Partial = ZillizImportError & { id: string; properties: ImportJobOutputs & { __provider: string } };

describe("ImportJob: a create whose answer was lost", () => {
  let emu: Emulator;
  let rest: StageClient;
  let jobs: ImportJobClient;
  const closers: (() => Promise<void>)[] = [];
  const lines: string[] = [];

  async function importProvider(config: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): Promise<Required<pulumi.dynamic.ResourceProvider>> {
    const context = new ProviderContext(env, undefined, { log: (message) => lines.push(message) });
    const { provider, close } = await configuredProvider("importJob", serviceConfig(emu, config), context);
    closers.push(close);
    return provider;
  }
  /** Creates the emulator carried out, whether or not the client heard back. */
  const accepted = () => emu.requests().filter((r) => r.kind === "import:create" && r.code === 0);
  /** Jobs of the collection that import exactly `file`. */
  async function jobsOf(file: string): Promise<string[]> {
    const page = await jobs.list(target, { collectionName: "quickstart", pageSize: 100 });
    const out: string[] = [];
    for (const r of page.records) {
      const p = await jobs.progress(target, r.jobId);
      if (p.details.some((d) => d.fileName === file) || (p.details.length === 0 && p.state === "Pending")) out.push(r.jobId);
    }
    return out;
  }

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-emulator/quickstart"] });
    rest = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    jobs = new ImportJobClient(rest);
    await rest.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" });
    // One file per test: jobs of other tests are never the same files.
    await putObjects(rest, "raw", Object.fromEntries(["found", "ambiguous", "none", "retry", "timeout", "config"].map((t) => [`${t}/a.json`, jsonRows(5)])));
  });
  afterAll(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    await rest?.close();
    await emu?.stop();
  });
  beforeEach(() => afresh(emu, lines));

  test("the job is created and the answer lost: create finds that job and follows it; exactly one job exists", async () => {
    const provider = await importProvider();
    emu.faults.add({ target: "import:create", mode: "lose-answer" });
    const { id, outs } = await provider.create(await checkedInputs(provider, { ...base, dataPaths: [["found/a.json"]] }));
    expect(accepted()).toHaveLength(1);
    expect(await jobsOf("found/a.json")).toEqual([id]);
    expect(outs).toMatchObject({ jobId: id, state: "Completed", importedRows: 5 });
    expect(outs).not.toHaveProperty("attemptedAt");
    const said = lines.join("\n");
    expect(said).toMatch(/the answer to create was lost \(import create: .*\); looking for the job it may have started/);
    expect(said).toContain(`found job ${id}, started by that create (same collection and files, created since); following it, no second job`);
  });

  test("when it cannot tell (another job over the same files): fails saying a job may have started and how to check, records Unknown; the next up looks again and starts nothing", async () => {
    const provider = await importProvider();
    const other = await jobs.create({ ...target, collectionName: "quickstart", stageName: "raw", dataPaths: [["ambiguous/a.json"]] });
    emu.faults.add({ target: "import:create", mode: "lose-answer" });
    const inputs = await checkedInputs(provider, { ...base, dataPaths: [["ambiguous/a.json"]] });
    const before = Date.now();
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as Partial;
    expect(err).toBeInstanceOf(ZillizImportError);
    expect(err.message).toMatch(/a job may have started that cannot be identified: 2 jobs of quickstart may be it \(.*\)/);
    expect(err.message).toContain(other);
    expect(err.message).toMatch(/POST \/v2\/vectordb\/jobs\/import\/list \{"clusterId":"in01-emulator","collectionName":"quickstart"\}/);
    expect(err.message).toMatch(/next `pulumi up` looks again/);
    expect(err.message).not.toContain(emu.apiKey);
    expect(err.id).toBe("job-unknown");
    expect(err.properties).toMatchObject({ __provider, jobId: "", state: "Unknown" });
    expect(Date.parse(err.properties.attemptedAt!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    // The other job and the one whose answer was lost.
    expect(accepted()).toHaveLength(2);

    // The next up: an update that looks (never a replacement, which would start a job blind).
    lines.length = 0;
    expect(await provider.diff(err.id, err.properties, inputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(lines.join("\n")).toMatch(/an earlier create lost its answer; this update looks for the job it may have started/);
    const again = (await provider.update(err.id, err.properties, inputs).catch((e: unknown) => e)) as Partial;
    expect(again).toBeInstanceOf(ZillizImportError);
    expect(again.properties).toMatchObject({ state: "Unknown", attemptedAt: err.properties.attemptedAt });
    expect(accepted()).toHaveLength(2);
    expect((await jobsOf("ambiguous/a.json")).sort()).toHaveLength(2);
  });

  test("nothing was started (reset before the request was carried out): it cannot know that, records Unknown; the next up finds no job and starts exactly one", async () => {
    const provider = await importProvider();
    emu.faults.add({ target: "import:create", mode: "reset" });
    const inputs = await checkedInputs(provider, { ...base, dataPaths: [["none/a.json"]] });
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as Partial;
    expect(err).toBeInstanceOf(ZillizImportError);
    expect(err.message).toMatch(/a job may have started that cannot be identified: no job of the collection shows it yet/);
    expect(err.properties.state).toBe("Unknown");
    expect(accepted()).toHaveLength(0);

    lines.length = 0;
    const { outs } = await provider.update(err.id, err.properties, inputs);
    expect(outs).toMatchObject({ state: "Completed", importedRows: 5, jobId: expect.stringMatching(/^job-/) });
    expect(outs).not.toHaveProperty("attemptedAt");
    expect(lines.join("\n")).toMatch(/no job of the earlier create whose answer was lost \(looked at \d+ jobs of quickstart\); starting one/);
    expect(accepted()).toHaveLength(1);
    expect(await jobsOf("none/a.json")).toEqual([outs.jobId]);
  });

  test("the search fails too: Unknown is recorded; the next up finds the job the lost create started and follows it, no second job", async () => {
    const provider = await importProvider();
    emu.faults.add({ target: "import:create", mode: "lose-answer" });
    emu.faults.add({ target: "import:list", status: 400 });
    const inputs = await checkedInputs(provider, { ...base, dataPaths: [["retry/a.json"]] });
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as Partial;
    expect(err.message).toMatch(/cannot be identified: looking for it failed too/);
    expect(err.properties.state).toBe("Unknown");
    const [started] = await jobsOf("retry/a.json");

    const { outs } = await provider.update(err.id, err.properties, inputs);
    expect(outs).toMatchObject({ jobId: started, state: "Completed", importedRows: 5 });
    expect(accepted()).toHaveLength(1);
    expect(await jobsOf("retry/a.json")).toEqual([started]);
  });

  describe("the request timeout is a setting", () => {
    test.each([
      ["the environment", {}, { ZILLIZCLOUD_REQUEST_TIMEOUT_SECONDS: "1" }, "timeout"],
      ["stack config", { "zillizcloud:requestTimeoutSeconds": "1" }, { ZILLIZCLOUD_REQUEST_TIMEOUT_SECONDS: "600" }, "config"],
    ])("from %s: a stalled create fails after it, and the error says where to set it", async (_, config, env, dir) => {
      const provider = await importProvider(config, env);
      emu.faults.add({ target: "import:create", mode: "stall" });
      const inputs = await checkedInputs(provider, { ...base, dataPaths: [[`${dir}/a.json`]] });
      const started = Date.now();
      const err = (await provider.create(inputs).catch((e: unknown) => e)) as Partial;
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(err.message).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+ within 1000 ms; check the endpoint, or give requests more time: set zillizcloud:requestTimeoutSeconds \(stack config\) or ZILLIZCLOUD_REQUEST_TIMEOUT_SECONDS to more seconds/);
      expect(err.properties.state).toBe("Unknown");
    });

    test("a value that is not a number of seconds is refused, naming where it came from", async () => {
      const provider = await importProvider({ "zillizcloud:requestTimeoutSeconds": "soon" });
      const inputs = await checkedInputs(provider, { ...base, dataPaths: [["config/a.json"]] });
      const err = await provider.create(inputs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizValidationError);
      expect((err as Error).message).toBe('zillizcloud:requestTimeoutSeconds: must be a number of seconds between 0 and 3600 (e.g. 60), got "soon"');
      expect(accepted()).toHaveLength(0);
    });
  });

  test("mayHaveStarted: only a failure after the request may have been carried out", () => {
    const api = (status: number, apiCode: number) => new ZillizApiError({ call: "import create", status, apiCode, apiMessage: "x" });
    expect(mayHaveStarted(api(500, 500))).toBe(true);
    expect(mayHaveStarted(api(200, 0))).toBe(true); // a success answer that could not be read
    expect(mayHaveStarted(api(200, 1100))).toBe(false); // refused with a code
    expect(mayHaveStarted(api(400, 400))).toBe(false);
    expect(mayHaveStarted(api(429, 429))).toBe(false);
    expect(mayHaveStarted(api(503, 503))).toBe(false);
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(mayHaveStarted(new ZillizTransportError("import create", "could not reach", { cause: refused }))).toBe(false);
    const reset = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(mayHaveStarted(new ZillizTransportError("import create", "could not reach", { cause: reset }))).toBe(true);
  });

  test("sameFiles: a job matches when it imports exactly the paths asked (a folder covers its files)", () => {
    const d = (...names: string[]) => names.map((fileName) => ({ fileName, state: "Completed" as const, progress: 100 }));
    expect(sameFiles(d("a.json"), [["a.json"]])).toBe("yes");
    expect(sameFiles(d("dir/1.parquet", "dir/2.parquet"), [["dir/"]])).toBe("yes");
    expect(sameFiles(d("a.json", "b.json"), [["a.json"]])).toBe("no"); // a job over more files
    expect(sameFiles(d("a.json"), [["a.json"], ["b.json"]])).toBe("no"); // over fewer
    expect(sameFiles(d("other/a.json"), [["a.json"]])).toBe("no");
    expect(sameFiles([], [["a.json"]])).toBe("maybe"); // not read its files yet
  });
});
