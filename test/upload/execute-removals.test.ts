// "Nothing is removed before its replacement is there": a run whose uploads
// did not all arrive deletes nothing, whatever stopped it. Each case plans
// uploads and removals together, makes the uploads fail, and then looks at
// the emulator's own record of what was asked and what it still holds.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizUploadError } from "../../provider/errors";
import { ExecuteOptions, executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("executeUpload removals after a failed upload", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkTmp("zstages-emu-");
    emu = await startEmulator({ dataDir });
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
    dir = await mkTmp();
  });

  afterEach(async () => {
    await client.close();
    await emu.stop();
    await rmTmp(dir);
    await rmTmp(dataDir);
  });

  /** Stores `files` as a first run, then rewrites the tree to `next`; returns the first run's manifest. */
  async function storedThenChanged(files: Record<string, string | Buffer>, next: Record<string, string | Buffer>, gone: string[]): Promise<Manifest> {
    await writeTree(dir, files);
    const scan = await scanSource(dir);
    const plan = planChanges(undefined, scan.manifest);
    await executeUpload({ stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: [] }, { targets: client });
    for (const rel of gone) await fs.rm(path.join(dir, rel));
    await writeTree(dir, next);
    emu.clearRequests();
    return scan.manifest;
  }

  async function rerun(previous: Manifest, opts: Partial<ExecuteOptions> = {}) {
    const scan = await scanSource(dir);
    const plan = planChanges(previous, scan.manifest);
    expect(plan.delete.length).toBeGreaterThan(0);
    return executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete, known: previous },
      { targets: client, ...opts },
    );
  }

  const stored = () => emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();
  const removalRequests = () => emu.requests().filter((r) => r.kind === "s3:delete" || r.kind === "s3:deleteMany");

  test("a refused PUT: the planned removals are not sent and the old files stay", async () => {
    const previous = await storedThenChanged({ "old.json": "old", "stay.json": "s" }, { "new.json": "new" }, ["old.json"]);
    emu.faults.add({ target: "s3:put", count: 100, status: 403 });
    const err = (await rerun(previous).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/Could not upload new\.json into stage up .*0 of 1 files arrived/);
    expect(err.completed).toEqual([]);
    expect(err.deleted).toEqual([]);
    expect(removalRequests()).toEqual([]);
    expect(stored()).toEqual(["old.json", "stay.json"]);
  });

  test("one of several uploads fails while others arrive: still no removal", async () => {
    const previous = await storedThenChanged(
      { "old/a.json": "a", "old/b.json": "b" },
      { "n0.json": "0", "n1.json": "1", "n2.json": "2" },
      ["old/a.json", "old/b.json"],
    );
    emu.faults.add({ target: "s3:put", skip: 2, count: 100, status: 403 });
    const err = (await rerun(previous, { concurrency: 1 }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.completed).toEqual(["n0.json", "n1.json"]);
    expect(err.deleted).toEqual([]);
    expect(removalRequests()).toEqual([]);
    expect(stored()).toEqual(["n0.json", "n1.json", "old/a.json", "old/b.json"]);
  });

  test("a file changed after its scan: its old version is not removed either", async () => {
    const previous = await storedThenChanged({ "gone.json": "g", "kept.json": "k" }, { "fresh.json": "fresh" }, ["gone.json"]);
    const scan = await scanSource(dir);
    const plan = planChanges(previous, scan.manifest);
    await writeTree(dir, { "fresh.json": "FRESH" }); // same size, other bytes
    const err = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete, known: previous },
      { targets: client },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err as Error).message).toMatch(/fresh\.json changed since it was scanned/);
    expect(removalRequests()).toEqual([]);
    expect(stored()).toEqual(["gone.json", "kept.json"]);
  });

  test("a failed multipart upload: no removal", async () => {
    const previous = await storedThenChanged({ "small.json": "s" }, { "big.bin": Buffer.alloc(6 * MiB, 7) }, ["small.json"]);
    emu.faults.add({ target: "s3:part", count: 100, status: 403 });
    const err = await rerun(previous, { multipartThreshold: 5 * MiB, partSize: 5 * MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err as ZillizUploadError).deleted).toEqual([]);
    expect(removalRequests()).toEqual([]);
    expect(stored()).toEqual(["small.json"]);
  });

  test("a stop after every upload arrived ends the run before its removals, as a failed removal", async () => {
    const previous = await storedThenChanged({ "old.json": "o" }, { "a.json": "a", "b.json": "b" }, ["old.json"]);
    const stop = new AbortController();
    const err = (await rerun(previous, {
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.filesDone === p.filesTotal) stop.abort(new Error("the engine asked to stop"));
      },
    }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/Could not delete old\.json from stage up/);
    expect(err.message).toMatch(/2 of 2 files arrived and 0 of 1 removals were done/);
    expect(err.completed).toEqual(["a.json", "b.json"]);
    expect(err.deleted).toEqual([]);
    expect(removalRequests()).toEqual([]);
    expect(stored()).toEqual(["a.json", "b.json", "old.json"]);
  });

  test("control: when every upload arrives, the removals are made", async () => {
    const previous = await storedThenChanged({ "old.json": "old" }, { "new.json": "new" }, ["old.json"]);
    const outcome = await rerun(previous);
    expect(outcome.uploaded).toEqual(["new.json"]);
    expect(outcome.deleted).toEqual(["old.json"]);
    expect(stored()).toEqual(["new.json"]);
  });
});
