// Moving bytes into a stage on the emulator: what arrives, what is sent
// again, what happens when credentials expire or the store fails.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { startEmulator, Emulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import { executeUpload, ExecuteOptions, planChanges, scanSource, Manifest } from "../../provider/upload";
import { ZillizUploadError, ZillizValidationError } from "../../provider/errors";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("executeUpload", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;

  async function sync(previous: Manifest | undefined, opts: Partial<ExecuteOptions> = {}, stagePath = "data/") {
    const scan = await scanSource(dir);
    const plan = planChanges(previous, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: stagePath, root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete },
      { targets: client, ...opts },
    );
    return { manifest: scan.manifest, outcome };
  }

  async function staged(): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    for (const o of emu.listObjects(PREFIX)) out[o.key.slice(PREFIX.length)] = await emu.readObject(o.key);
    return out;
  }

  const sent = () => emu.requests().filter((r) => r.kind === "s3:put" || r.kind === "s3:complete").map((r) => r.key!.slice(PREFIX.length)).sort();

  async function setup(options: Parameters<typeof startEmulator>[0] = {}) {
    emu = await startEmulator(options);
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
    dir = await mkTmp();
  }
  afterEach(async () => {
    await client.close();
    await emu.stop();
    await rmTmp(dir);
  });

  test("a tree arrives byte for byte at stagePrefix + path + relative path; reruns send only changes", async () => {
    await setup();
    const big = randomBytes(12 * MiB);
    await writeTree(dir, { "a.json": "A", "ünï/b 🚀.json": "B", "empty.json": "", "nested/deep/c.npy": "C", "big.bin": big });
    await fs.mkdir(path.join(dir, "hollow"));
    const first = await sync(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    const remote = await staged();
    expect(Object.keys(remote).sort()).toEqual(["data/a.json", "data/big.bin", "data/empty.json", "data/nested/deep/c.npy", "data/ünï/b 🚀.json"]);
    expect(remote["data/big.bin"].equals(big)).toBe(true);
    expect(remote["data/ünï/b 🚀.json"].toString()).toBe("B");
    expect(remote["data/empty.json"].length).toBe(0);
    expect(emu.requests().filter((r) => r.kind === "s3:part")).toHaveLength(3);
    expect(first.outcome.bytesSent).toBe(big.length + 3);

    // Change one file: only that one goes.
    emu.clearRequests();
    await writeTree(dir, { "a.json": "A2" });
    const second = await sync(first.manifest);
    expect(sent()).toEqual(["data/a.json"]);
    expect(second.outcome.uploaded).toEqual(["a.json"]);

    // Delete one locally: removed remotely.
    emu.clearRequests();
    await fs.rm(path.join(dir, "nested"), { recursive: true });
    const third = await sync(second.manifest);
    expect(third.outcome.deleted).toEqual(["nested/deep/c.npy"]);
    expect(sent()).toEqual([]);
    expect(Object.keys(await staged())).not.toContain("data/nested/deep/c.npy");
  });

  test("credentials that expire mid-run are renewed and the run completes", async () => {
    await setup({ credentialTtlSeconds: 2 });
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`f${i}.json`] = `file ${i}`;
    await writeTree(dir, files);
    // Slow puts stretch the run past the credentials' lifetime.
    emu.faults.add({ target: "s3:put", count: 8, delayMs: 600 });
    const { outcome } = await sync(undefined, { concurrency: 2, refreshMarginMs: 0 });
    expect(outcome.uploaded).toHaveLength(8);
    expect(outcome.applies).toBeGreaterThan(1);
    expect(emu.requests().filter((r) => r.kind === "apply").length).toBeGreaterThan(1);
    expect(Object.keys(await staged())).toHaveLength(8);
  });

  test("an expired token refused by the store is renewed at once", async () => {
    await setup({ credentialTtlSeconds: 1 });
    await writeTree(dir, { "late.json": "late" });
    const scan = await scanSource(dir);
    // A source that hands out credentials about to die, the way a clock skew would.
    let calls = 0;
    const stale = {
      applyUploadTarget: async (req: { stageName: string; path: string }) => {
        const t = await client.applyUploadTarget(req);
        if (calls++ === 0) {
          await new Promise((r) => setTimeout(r, 1100));
          return { ...t, credentials: { ...t.credentials, expireTime: new Date(Date.now() + 3_600_000).toISOString() } };
        }
        return t;
      },
    };
    const outcome = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["late.json"], delete: [] },
      { targets: stale },
    );
    expect(outcome.uploaded).toEqual(["late.json"]);
    expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.status)).toEqual([400, 200]);
  });

  test("transient store failures are retried", async () => {
    await setup();
    await writeTree(dir, { "a.json": "A" });
    emu.faults.add({ target: "s3:put", count: 2, status: 500 });
    const { outcome } = await sync(undefined);
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.status)).toEqual([500, 500, 200]);
  });

  test("a persistent failure names the file and what arrived; the rerun sends only the rest", async () => {
    await setup();
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`f${i}.json`] = `file ${i}`;
    await writeTree(dir, files);
    emu.faults.add({ target: "s3:put", skip: 2, count: 100, status: 403 });
    const err = (await sync(undefined, { concurrency: 1 }).catch((e) => e)) as ZillizUploadError;
    emu.faults.clear();
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/Could not upload f2\.json into stage up \(InjectedFault/);
    expect(err.message).toMatch(/run again to send only what is missing/);
    expect(err.completed).toEqual(["f0.json", "f1.json"]);
    expect(Object.keys(await staged()).sort()).toEqual(["data/f0.json", "data/f1.json"]);

    emu.clearRequests();
    const scan = await scanSource(dir);
    const recorded: Manifest = {};
    for (const rel of err.completed) recorded[rel] = scan.manifest[rel];
    await sync(recorded);
    expect(sent()).toEqual(["data/f2.json", "data/f3.json", "data/f4.json"]);
  });

  test("a failed multipart upload is aborted, not left behind", async () => {
    await setup();
    await writeTree(dir, { "big.bin": randomBytes(11 * MiB) });
    emu.faults.add({ target: "s3:part", skip: 1, count: 100, status: 500 });
    const err = await sync(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB, maxAttempts: 2 }).catch((e) => e);
    emu.faults.clear();
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.completed).toEqual([]);
    expect(emu.requests().some((r) => r.kind === "s3:abort")).toBe(true);
    const target = await client.applyUploadTarget({ stageName: "up", path: "" });
    const s3 = new S3Client({
      endpoint: target.endpoint,
      region: target.region,
      forcePathStyle: true,
      credentials: { accessKeyId: target.credentials.tmpAK, secretAccessKey: target.credentials.tmpSK, sessionToken: target.credentials.sessionToken },
    });
    const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucketName, Prefix: target.stagePrefix }));
    s3.destroy();
    expect(pending.Uploads ?? []).toEqual([]);
    expect(emu.listObjects(PREFIX)).toEqual([]);
  });

  test("a total above maxContentLength is refused before any byte is sent", async () => {
    await setup({ maxContentLength: 10 });
    await writeTree(dir, { "a.json": "123456", "b.json": "7890123" });
    const err = await sync(undefined).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.message).toMatch(/13 bytes exceed the stage's upload limit of 10 bytes/);
    expect(emu.requests().filter((r) => r.kind.startsWith("s3:"))).toEqual([]);
  });

  test("a file modified between scan and upload is named and nothing is stored for it", async () => {
    await setup();
    await writeTree(dir, { "a.json": "original" });
    const scan = await scanSource(dir);
    await writeTree(dir, { "a.json": "modified!" });
    const err = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] },
      { targets: client },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/a\.json changed since it was scanned/);
    expect(emu.listObjects()).toEqual([]);
  });
});
