// What a run tells its caller, exactly: the progress it reports, the
// outcome it returns, the error it throws and the counts in it, and the
// options it takes that are out of range. Each case asks the emulator what
// was stored and what was asked.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoppedError, ZillizUploadError, ZillizValidationError } from "../../provider/errors";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { ExecuteOptions, executeUpload, Manifest, planChanges, RequestLimiter, scanSource, UploadProgress } from "../../provider/upload";
import { writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { withUploadStage } from "../helpers/upload-stage";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("what executeUpload reports", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let notices: string[];

  withUploadStage((s) => ({ emu, client, dir, notices } = s));

  async function run(known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}, only?: (rel: string) => boolean) {
    const scan = await scanSource(dir);
    const plan = planChanges(known, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload.filter(only ?? (() => true)), delete: plan.delete, known },
      { targets: client, onNotice: (line) => notices.push(line), ...opts },
    );
    return { manifest: scan.manifest, outcome };
  }
  const stored = () => emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();
  const requests = (kind: string) => emu.requests().filter((r) => r.kind === kind);
  test("progress counts the files to send (not the adopted), every part of a large file, and the bytes of each; the outcome sums them", async () => {
    const big = randomBytes(11 * MiB);
    await writeTree(dir, { "a.json": "a", "b.json": "bb", "big.bin": big, "c.json": "ccc" });
    const opts = { multipartThreshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1 };
    // An interrupted run sent a.json; no state recorded it.
    await run(undefined, opts, (rel) => rel === "a.json");
    const seen: UploadProgress[] = [];
    const { outcome } = await run(undefined, { ...opts, onProgress: (p) => seen.push({ ...p }) });
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["b.json", "big.bin", "c.json"]);
    const total = 2 + 11 * MiB + 3;
    expect(seen).toEqual([
      { filesDone: 1, filesTotal: 3, bytesDone: 2, bytesTotal: total },
      { filesDone: 1, filesTotal: 3, bytesDone: 2 + 5 * MiB, bytesTotal: total },
      { filesDone: 1, filesTotal: 3, bytesDone: 2 + 10 * MiB, bytesTotal: total },
      { filesDone: 1, filesTotal: 3, bytesDone: 2 + 11 * MiB, bytesTotal: total },
      { filesDone: 2, filesTotal: 3, bytesDone: 2 + 11 * MiB, bytesTotal: total },
      { filesDone: 3, filesTotal: 3, bytesDone: total, bytesTotal: total },
    ]);
    expect(outcome.bytesSent).toBe(total);
    expect((await emu.readObject(PREFIX + "big.bin")).equals(big)).toBe(true);
    expect(notices).toEqual([expect.stringMatching(/a\.json/)]);
  });

  test("nothing to do: every field of the outcome is empty, and nothing is asked", async () => {
    emu.clearRequests();
    const outcome = await executeUpload({ stageName: "up", path: "", root: dir, manifest: {}, upload: [], delete: [] }, { targets: client });
    expect(outcome).toEqual({
      uploaded: [],
      adopted: [],
      abortedUploads: [],
      deleted: [],
      bytesSent: 0,
      stagePrefix: "",
      keys: {},
      applies: 0,
      stamps: new Map(),
      released: [],
    });
    expect(Object.keys(outcome.keys)).toEqual([]);
    expect(emu.requests()).toEqual([]);
  });

  test("a run that did something: the stage prefix, one apply, a key for every file sent or removed, nothing aborted or released", async () => {
    await writeTree(dir, { "old.json": "o", "keep.json": "k" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "old.json"));
    await writeTree(dir, { "new.json": "n" });
    const { outcome } = await run(manifest);
    expect(outcome).toEqual({
      uploaded: ["new.json"],
      adopted: [],
      abortedUploads: [],
      deleted: ["old.json"],
      bytesSent: 1,
      stagePrefix: PREFIX,
      keys: { "new.json": PREFIX + "new.json", "old.json": PREFIX + "old.json" },
      applies: 1,
      stamps: new Map(),
      released: [],
    });
    expect(stored()).toEqual(["keep.json", "new.json"]);
  });

  test.each([[Number.NaN], [-3], [0], [0.5]])("a concurrency out of range (%p) is taken as one: every file is still sent", async (concurrency) => {
    await writeTree(dir, { "a.json": "a", "b.json": "b", "c.json": "c" });
    const { outcome } = await run(undefined, { concurrency });
    expect(outcome.uploaded).toEqual(["a.json", "b.json", "c.json"]);
    expect(requests("s3:put").filter((r) => r.status === 200)).toHaveLength(3);
    expect(stored()).toEqual(["a.json", "b.json", "c.json"]);
  });

  test("an upload that fails after another file was adopted: the adopted file counts as arrived and is recorded", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    await run(undefined, {}, (rel) => rel === "a.json");
    emu.faults.add({ target: "s3:put", count: 10, status: 403 });
    const err = (await run(undefined, { concurrency: 1 }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not upload b\.json into stage up \(InjectedFault: .*\)\. 1 of 2 files arrived and are recorded; run again to send only what is missing\.$/);
    expect(err.completed).toEqual(["a.json"]);
    expect(err.deleted).toEqual([]);
    expect(stored()).toEqual(["a.json"]);
  });

  test("a removal refused after every upload arrived: the removal is named, with the uploads and adopted files counted and recorded, sorted", async () => {
    await writeTree(dir, { "old.json": "o" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "old.json"));
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    // An interrupted run sent a.json (and removed nothing); b.json is sent now, so it is listed first.
    await run(undefined, {}, (rel) => rel === "a.json");
    emu.faults.add({ target: "s3:delete", count: 10, status: 403 });
    emu.faults.add({ target: "s3:deleteMany", count: 10, status: 403 });
    const err = (await run(manifest).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not delete old\.json from stage up \(.*\)\. 2 of 2 files arrived and 0 of 1 removals were done; run again to send only what is missing\.$/);
    expect(err.completed).toEqual(["a.json", "b.json"]);
    expect(err.deleted).toEqual([]);
    expect(stored()).toEqual(["a.json", "b.json", "old.json"]);
  });

  test("a run of uploads and removals whose look before it fails: the first upload is named, with nothing arrived of the uploads", async () => {
    await writeTree(dir, { "a.json": "a", "old.json": "o" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "old.json"));
    await writeTree(dir, { "a.json": "a, changed", "b.json": "b" });
    emu.faults.add({ target: "s3:head", count: 10, status: 500 });
    emu.faults.add({ target: "s3:list", count: 10, status: 500 });
    emu.clearRequests();
    const err = (await run(manifest, { maxAttempts: 2 }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not upload a\.json into stage up \(.*\)\. 0 of 2 files arrived and are recorded; run again/);
    expect(err.completed).toEqual([]);
    expect(requests("s3:put")).toEqual([]);
    expect(stored()).toEqual(["a.json", "old.json"]);
  });

  test("a stop after the last upload, with nothing to remove: the run is done, not failed", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    const stop = new AbortController();
    const { outcome } = await run(undefined, {
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.filesDone === p.filesTotal) stop.abort(new ZillizStoppedError("SIGINT"));
      },
    });
    expect(stop.signal.aborted).toBe(true);
    expect(outcome.uploaded).toEqual(["a.json", "b.json"]);
    expect(stored()).toEqual(["a.json", "b.json"]);
  });
  test("an incomplete multipart upload an interrupted run left at a planned key is aborted, and the outcome names it", async () => {
    await writeTree(dir, { "big.bin": randomBytes(5 * MiB) });
    const { s3, target } = await stageS3(client, "up");
    try {
      await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: PREFIX + "big.bin" }));
    } finally {
      s3.destroy();
    }
    const { outcome } = await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    expect(outcome.uploaded).toEqual(["big.bin"]);
    expect(outcome.abortedUploads).toEqual(["big.bin"]);
    expect(requests("s3:abort").map((r) => r.key)).toEqual([PREFIX + "big.bin"]);
    expect(notices).toEqual([expect.stringMatching(/aborted 1 incomplete multipart upload/)]);
  });

  test("without a threshold given, a file of 16 MiB goes multipart and one byte less is a single PUT", async () => {
    await writeTree(dir, { "at.bin": randomBytes(16 * MiB), "under.bin": randomBytes(16 * MiB - 1) });
    emu.clearRequests();
    const { outcome } = await run(undefined);
    expect(outcome.uploaded).toEqual(["at.bin", "under.bin"]);
    expect(requests("s3:complete").map((r) => r.key)).toEqual([PREFIX + "at.bin"]);
    expect(requests("s3:put").map((r) => r.key)).toEqual([PREFIX + "under.bin"]);
  });

  test("a file waiting for a request slot another upload holds is not sent once that upload failed", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    emu.clearRequests();
    // Two file workers, one slot shared with the rest of the process: the second waits for the first's.
    emu.faults.add({ target: "s3:put", count: 1, status: 403 });
    const err = (await run(undefined, { concurrency: 2, limiter: new RequestLimiter(1) }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    const puts = requests("s3:put");
    expect(puts.map((r) => r.status)).toEqual([403]);
    const failed = puts[0].key!.slice(PREFIX.length);
    expect(err.message).toMatch(new RegExp(`^Could not upload ${failed.replace(".", "\\.")} into stage up \\(InjectedFault: .*0 of 2 files arrived`));
    expect(err.completed).toEqual([]);
    expect(stored()).toEqual([]);
  });

  test("a stop while an upload is in flight fails the run as the stop, not as the request it cut off", async () => {
    await writeTree(dir, { "a.json": "a" });
    emu.clearRequests();
    emu.faults.add({ target: "s3:put", count: 1, mode: "stall" });
    const stop = new AbortController();
    // The stop comes once the store holds the PUT (the stall is taken), whatever the machine's pace.
    const stopWhenHeld = async () => {
      while (emu.faults.pending() > 0) await new Promise((r) => setImmediate(r));
      stop.abort(new ZillizStoppedError("SIGINT"));
    };
    const [result] = await Promise.all([run(undefined, { signal: stop.signal, requestTimeoutMs: 3000, maxAttempts: 2 }).catch((e: unknown) => e), stopWhenHeld()]);
    const err = result as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.cause).toBeInstanceOf(ZillizStoppedError);
    expect(err.message).toMatch(/^Could not upload a\.json into stage up \(.*SIGINT.*\)\. 0 of 1 files arrived and are recorded/);
    expect(err.completed).toEqual([]);
    expect(requests("s3:put")).toHaveLength(1);
    expect(stored()).toEqual([]);
  });
  test("a directory replaced by a file after the scan: the upload under it fails with the system's own words, and the rest arrives", async () => {
    await writeTree(dir, { "a.json": "a", "sub/b.json": "b" });
    const scan = await scanSource(dir);
    await fs.rm(path.join(dir, "sub"), { recursive: true });
    await writeTree(dir, { sub: "now a file" });
    const err = (await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json", "sub/b.json"], delete: [] },
      { targets: client, concurrency: 1, onNotice: (line) => notices.push(line) },
    ).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ENOTDIR");
    // The cause's message as it is, not "Error: ..." (the error's String()).
    expect(err.message).toMatch(/^Could not upload sub\/b\.json into stage up \(ENOTDIR: not a directory, open '[^']*b\.json'\)\. 1 of 2 files arrived and are recorded/);
    expect(err.completed).toEqual(["a.json"]);
    expect(stored()).toEqual(["a.json"]);
  });
  test("another resource's object with other content at a planned key: the refusal itself is thrown, not wrapped as a failed upload", async () => {
    await writeTree(dir, { "a.json": "theirs" });
    const theirs = await scanSource(dir);
    const job = { stageName: "up", path: "", root: theirs.root, manifest: theirs.manifest, upload: ["a.json"], delete: [] };
    await executeUpload({ ...job, owner: { token: "tok-other", urn: "urn:other" } }, { targets: client });
    await writeTree(dir, { "a.json": "ours" });
    const scan = await scanSource(dir);
    emu.clearRequests();
    const err = await executeUpload(
      { ...job, manifest: scan.manifest, owner: { token: "tok-us", urn: "urn:us" } },
      { targets: client, onNotice: (line) => notices.push(line) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err).not.toBeInstanceOf(ZillizUploadError);
    expect(requests("s3:put")).toEqual([]);
    expect((await emu.readObject(PREFIX + "a.json")).toString()).toBe("theirs");
  });
});
