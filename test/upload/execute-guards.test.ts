// The edges of a run that the ordinary cases do not reach: a plan that does
// not match its manifest, a look before the run that fails on a run of
// removals only, a stop between two uploads, and the multipart threshold
// itself. Each case asks the emulator what was stored and what was asked.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoppedError, ZillizUploadError, ZillizValidationError } from "../../provider/errors";
import { ExecuteOptions, executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { writeTree } from "../helpers/fs";
import { withUploadStage } from "../helpers/upload-stage";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("executeUpload at its edges", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;

  withUploadStage((s) => ({ emu, client, dir } = s));

  async function run(known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}) {
    const scan = await scanSource(dir);
    const plan = planChanges(known, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete, known },
      { targets: client, ...opts },
    );
    return { manifest: scan.manifest, outcome };
  }
  const stored = () => emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();
  const requests = (kind: string) => emu.requests().filter((r) => r.kind === kind);

  test("an upload planned for a file the manifest does not hold is refused before any request, naming the file", async () => {
    await writeTree(dir, { "a.json": "a" });
    const scan = await scanSource(dir);
    emu.clearRequests();
    const err = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json", "ghost.json"], delete: [] },
      { targets: client },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/ghost\.json is planned for upload but missing from the manifest; scan again/);
    expect((err as ZillizValidationError).field).toBe("source");
    // Not even credentials were asked for: nothing reached the store.
    expect(emu.requests()).toEqual([]);
    expect(stored()).toEqual([]);
  });

  test("a removal-only run whose look for incomplete uploads fails until the retries run out: the removal is named and the file stays", async () => {
    await writeTree(dir, { "big.bin": randomBytes(6 * MiB), "keep.json": "k" });
    const opts = { multipartThreshold: 5 * MiB, partSize: 5 * MiB, maxAttempts: 2 };
    const { manifest } = await run(undefined, opts);
    await fs.rm(path.join(dir, "big.bin"));
    emu.clearRequests();
    emu.faults.add({ target: "s3:listUploads", count: 10, status: 500 });
    const err = (await run(manifest, opts).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/^Could not delete big\.bin from stage up/);
    expect(err.message).toMatch(/0 of 0 files arrived and 0 of 1 removals were done/);
    expect(err.completed).toEqual([]);
    expect(err.deleted).toEqual([]);
    expect(requests("s3:listUploads").map((r) => r.status)).toEqual([500, 500]);
    expect(stored()).toEqual(["big.bin", "keep.json"]);
  });

  test("a stop between two uploads: the unsent file is named, the one that arrived is recorded, nothing is removed", async () => {
    await writeTree(dir, { "old.json": "o" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "old.json"));
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    emu.clearRequests();
    const stop = new AbortController();
    const err = (await run(manifest, {
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.filesDone === 1) stop.abort(new ZillizStoppedError("SIGINT"));
      },
    }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.cause).toBeInstanceOf(ZillizStoppedError);
    expect(err.message).toMatch(/^Could not upload b\.json into stage up/);
    expect(err.message).toMatch(/1 of 2 files arrived and are recorded/);
    expect(err.completed).toEqual(["a.json"]);
    expect(err.deleted).toEqual([]);
    expect(requests("s3:delete").concat(requests("s3:deleteMany"))).toEqual([]);
    expect(stored()).toEqual(["a.json", "old.json"]);
  });

  test("a file exactly the multipart threshold goes multipart; one byte less is a single PUT", async () => {
    await writeTree(dir, { "at.bin": randomBytes(5 * MiB), "under.bin": randomBytes(5 * MiB - 1) });
    const { outcome } = await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    expect(outcome.uploaded).toEqual(["at.bin", "under.bin"]);
    expect(requests("s3:complete").map((r) => r.key)).toEqual([PREFIX + "at.bin"]);
    expect(requests("s3:put").map((r) => r.key)).toEqual([PREFIX + "under.bin"]);
  });

  test("the outcome lists uploads and removals sorted, whatever order the workers finished in", async () => {
    const old: Record<string, string> = {};
    for (const name of ["z", "m", "a", "q", "c"]) old[`old-${name}.json`] = name;
    await writeTree(dir, old);
    const { manifest } = await run(undefined);
    for (const rel of Object.keys(old)) await fs.rm(path.join(dir, rel));
    const fresh: Record<string, string | Buffer> = {};
    // Bigger files first in name order, so the later names finish first.
    ["a", "b", "c", "d", "e", "f"].forEach((name, i) => (fresh[`new-${name}.bin`] = randomBytes((6 - i) * 256 * 1024)));
    await writeTree(dir, fresh);
    const { outcome } = await run(manifest, { concurrency: 6 });
    expect(outcome.uploaded).toEqual(Object.keys(fresh).sort());
    expect(outcome.deleted).toEqual(Object.keys(old).sort());
    expect(stored()).toEqual(Object.keys(fresh).sort());
  });

  test("a file an interrupted run already sent is adopted, not sent again; only the rest is written", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    const scan = await scanSource(dir);
    // The interrupted run: a.json arrived, no state recorded it.
    await executeUpload({ stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] }, { targets: client });
    emu.clearRequests();
    const { outcome } = await run(undefined);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["b.json"]);
    expect(requests("s3:put").map((r) => r.key)).toEqual([PREFIX + "b.json"]);
    expect(outcome.bytesSent).toBe(1);
    expect(stored()).toEqual(["a.json", "b.json"]);
  });

  test("with an owner, each written object's LastModified is read back as its stamp; without one, none is", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    const before = Date.now() - 2000;
    const scan = await scanSource(dir);
    const job = { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json", "b.json"], delete: [] };
    const owned = await executeUpload({ ...job, owner: { token: "tok-1", urn: "urn:a" } }, { targets: client });
    expect([...owned.stamps.keys()].sort()).toEqual(["a.json", "b.json"]);
    for (const at of owned.stamps.values()) expect(at).toBeGreaterThan(before);
    await writeTree(dir, { "a.json": "a2", "b.json": "b2" });
    const rescan = await scanSource(dir);
    const unowned = await executeUpload({ ...job, manifest: rescan.manifest }, { targets: client });
    expect(unowned.uploaded).toEqual(["a.json", "b.json"]);
    expect(unowned.stamps.size).toBe(0);
  });
});
