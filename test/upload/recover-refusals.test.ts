// The look for what an interrupted run left, when the store will not answer
// it: a refusal (a stricter policy, a store without the call) is no reason
// not to upload, and the user is told; a failure every request would meet
// (retries run out) fails the run before anything is sent.
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoppedError, ZillizStoreError, ZillizUploadError } from "../../provider/errors";
import { ExecuteOptions, Manifest } from "../../provider/upload";
import { writeTree } from "../helpers/fs";
import { scanPlanExecute, withUploadStage } from "../helpers/upload-stage";

const PREFIX = "stages/p/up/data/";
const MiB = 1024 * 1024;
const BIG = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };

describe("recovery when the store refuses to be looked at", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let notices: string[];

  withUploadStage((s) => ({ emu, client, dir, notices } = s));

  const run = (known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}) => scanPlanExecute({ emu, client, dir, notices }, known, { maxAttempts: 2, ...opts });
  const stored = () => emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();
  const requests = (kind: string) => emu.requests().filter((r) => r.kind === kind);

  /** A state that knows a.json and b.json, then b.json changed on disk: the next run HEADs b.json. */
  async function oneChanged(): Promise<Manifest> {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    const { manifest } = await run(undefined);
    await writeTree(dir, { "b.json": "b, changed" });
    emu.clearRequests();
    return manifest;
  }

  test("a refused HEAD: every planned file is sent, and the notice says why", async () => {
    const known = await oneChanged();
    emu.faults.add({ target: "s3:head", count: 10, status: 403 });
    const { outcome } = await run(known);
    expect(outcome.uploaded).toEqual(["b.json"]);
    expect(outcome.adopted).toEqual([]);
    // A HEAD answer has no body: the store's code cannot be read, only its status.
    expect(notices).toEqual([expect.stringMatching(/^could not check the stage for files an interrupted run already sent or another resource owns, so every planned file is sent \(HTTP 403/)]);
    expect(stored()).toEqual(["a.json", "b.json"]);
  });

  test("a refused listing (a first upload of many files lists): the same", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${i}.json`] = `${i}`;
    await writeTree(dir, files);
    emu.faults.add({ target: "s3:list", count: 10, status: 403 });
    const { outcome } = await run(undefined);
    expect(outcome.uploaded).toHaveLength(30);
    expect(requests("s3:list").map((r) => r.status)).toEqual([403]);
    expect(notices).toEqual([expect.stringMatching(/could not check the stage for files an interrupted run already sent or another resource owns/)]);
  });

  test("a refused look for incomplete multipart uploads: the big file is still sent, and the notice says so", async () => {
    await writeTree(dir, { "big.bin": Buffer.alloc(6 * MiB, 1) });
    emu.faults.add({ target: "s3:listUploads", count: 10, status: 403 });
    const { outcome } = await run(undefined, BIG);
    expect(outcome.uploaded).toEqual(["big.bin"]);
    expect(outcome.abortedUploads).toEqual([]);
    expect(notices).toEqual([expect.stringMatching(/^could not look for incomplete multipart uploads \(/)]);
    expect(stored()).toEqual(["big.bin"]);
  });

  test("a HEAD failing until the retries run out fails the run before anything is sent", async () => {
    const known = await oneChanged();
    emu.faults.add({ target: "s3:head", count: 10, status: 500 });
    const err = (await run(known).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not upload b\.json into stage up/);
    expect(err.completed).toEqual([]);
    expect(requests("s3:head").map((r) => r.status)).toEqual([500, 500]);
    expect(requests("s3:put")).toEqual([]);
  });

  test("a stop while the store is refusing the look: the run ends as stopped, nothing is sent", async () => {
    const known = await oneChanged();
    const stop = new AbortController();
    emu.faults.add({ target: "s3:head", count: 10, status: 403 });
    const err = (await run(known, {
      signal: stop.signal,
      targets: {
        applyUploadTarget: async (req) => {
          const t = await client.applyUploadTarget(req);
          // Stopped after the credentials came, before the look answers.
          setImmediate(() => stop.abort(new Error("the engine asked to stop")));
          return t;
        },
      },
    }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/the engine asked to stop/);
    expect(requests("s3:put")).toEqual([]);
  });

  test("a refused look for incomplete multipart uploads after an adoption: one notice line, the adoption first, then the refusal", async () => {
    await writeTree(dir, { "a.json": "a", "big.bin": Buffer.alloc(6 * MiB, 1) });
    // The interrupted run: a.json arrived, and no state recorded it.
    await scanPlanExecute({ emu, client, dir, notices }, undefined, BIG, (rel) => rel === "a.json");
    emu.faults.add({ target: "s3:listUploads", count: 10, status: 403 });
    notices.length = 0;
    const { outcome } = await run(undefined, BIG);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["big.bin"]);
    expect(notices).toEqual([
      expect.stringMatching(
        /^adopted 1 object\(s\) already in the stage with the planned size and SHA-256, not sent again \(a\.json\); could not look for incomplete multipart uploads \(InjectedFault: /,
      ),
    ]);
  });

  test("a look for incomplete multipart uploads failing until the retries run out fails the run before anything is sent, naming the request", async () => {
    await writeTree(dir, { "big.bin": Buffer.alloc(6 * MiB, 1) });
    emu.faults.add({ target: "s3:listUploads", count: 10, status: 500 });
    const err = (await run(undefined, BIG).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not upload big\.bin into stage up/);
    expect((err.cause as ZillizStoreError).operation).toBe(`ListMultipartUploads ${PREFIX}`);
    expect(err.completed).toEqual([]);
    expect(requests("s3:listUploads").map((r) => r.status)).toEqual([500, 500]);
    expect(requests("s3:initiate")).toEqual([]);
    expect(notices).toEqual([]);
  });

  test("a stop while the look for incomplete multipart uploads goes unanswered ends the run at once, as stopped in the caller's words; nothing sent, no notice", async () => {
    await writeTree(dir, { "big.bin": Buffer.alloc(6 * MiB, 1) });
    emu.faults.add({ target: "s3:listUploads", count: 1, mode: "stall" });
    const stop = new AbortController();
    let settled = false;
    // A caller's stop may give any reason, here a string.
    const running = run(undefined, { ...BIG, signal: stop.signal }).finally(() => (settled = true));
    while (!settled && requests("s3:listUploads").length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort("the caller gave up");
    const err = (await running.catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.cause).toBeInstanceOf(ZillizStoppedError);
    expect(err.message).toMatch(/the caller gave up/);
    expect(requests("s3:initiate")).toEqual([]);
    expect(notices).toEqual([]);
  });

  test("control: with nothing refused there is no notice", async () => {
    const known = await oneChanged();
    await run(known);
    expect(notices).toEqual([]);
  });
});
