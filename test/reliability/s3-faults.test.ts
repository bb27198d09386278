// The object store misbehaving under a running upload: parts that fail or
// stall, credentials that expire between parts, the whole service restarting
// mid-run. Whatever happens, nothing is reported uploaded that did not
// arrive intact, a rerun sends only what is missing, and no incomplete
// multipart upload is left behind.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizUploadError } from "../../provider/errors";
import { ExecuteOptions, executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { pendingUploads } from "../helpers/s3";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("S3 faults during an upload", () => {
  let emu: Emulator;
  let dataDir: string;
  let dir: string;
  let client: StageClient;

  async function start(options: { port?: number; credentialTtlSeconds?: number } = {}) {
    emu = await startEmulator({ ...options, dataDir, apiKey: "test-key" });
    return emu;
  }

  beforeEach(async () => {
    dataDir = await mkTmp("zstages-emu-");
    dir = await mkTmp();
  });
  afterEach(async () => {
    await client?.close();
    await emu?.stop();
    await rmTmp(dir);
    await rmTmp(dataDir);
  });

  async function stage(ttl?: number) {
    await start({ credentialTtlSeconds: ttl });
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 1_000 } });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
  }

  async function run(previous: Manifest | undefined, opts: Partial<ExecuteOptions> = {}) {
    const scan = await scanSource(dir);
    const plan = planChanges(previous, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete },
      { targets: client, ...opts },
    );
    return { manifest: scan.manifest, plan, outcome };
  }

  /** Every stored object under the stage, compared with the local file of the same name. */
  async function assertIntact(rels: string[]) {
    for (const rel of rels) {
      const local = await fs.readFile(path.join(dir, rel));
      const remote = await emu.readObject(PREFIX + rel);
      expect({ rel, equal: remote.equals(local) }).toEqual({ rel, equal: true });
    }
  }

  const kinds = (kind: string) => emu.requests().filter((r) => r.kind === kind);

  test("a part that fails twice and a part that stalls are retried; the file arrives intact", async () => {
    await stage();
    await writeTree(dir, { "big.bin": randomBytes(16 * MiB) });
    emu.faults.add({ target: "s3:part", skip: 1, count: 2, status: 500 });
    emu.faults.add({ target: "s3:part", skip: 0, count: 1, mode: "stall" });
    const { outcome } = await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1, requestTimeoutMs: 2_000 });
    expect(outcome.uploaded).toEqual(["big.bin"]);
    // 4 parts, plus 2 failures and 1 stall retried.
    expect(kinds("s3:part").filter((r) => r.status === 200)).toHaveLength(4);
    expect(kinds("s3:part").length).toBe(7);
    await assertIntact(["big.bin"]);
    expect(await pendingUploads(client, "up")).toEqual([]);
  });

  test("credentials that expire between parts are renewed; the parts before and after belong to one upload", async () => {
    await stage(2);
    await writeTree(dir, { "big.bin": randomBytes(15 * MiB) });
    // Three parts, each slow enough that the first credentials die before the last part.
    emu.faults.add({ target: "s3:part", count: 3, delayMs: 1_200 });
    const { outcome } = await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1, refreshMarginMs: 0 });
    expect(outcome.uploaded).toEqual(["big.bin"]);
    expect(outcome.applies).toBeGreaterThan(1);
    expect(kinds("s3:initiate")).toHaveLength(1);
    expect(kinds("s3:complete").map((r) => r.status)).toEqual([200]);
    await assertIntact(["big.bin"]);
    expect(await pendingUploads(client, "up")).toEqual([]);
  });

  // With retries the run usually rides out the restart; without, it must fail
  // cleanly. Either way the same promises hold.
  test.each([
    ["with retries", 5],
    ["without retries", 1],
  ])("the service restarting mid-run (%s): what is reported uploaded is there; the rerun sends only the rest", async (_, maxAttempts) => {
    await stage();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, "0")}.bin`] = randomBytes(1024 + i);
    files["big.bin"] = randomBytes(12 * MiB);
    await writeTree(dir, files);
    const port = Number(new URL(emu.url).port);
    // Slow the store down so the restart lands in the middle of the run.
    emu.faults.add({ target: "s3:*", count: 1_000, delayMs: 60 });

    let restarted: Promise<void> | undefined;
    const restart = async () => {
      await emu.stop();
      await start({ port });
    };
    const first = await run(undefined, {
      concurrency: 2,
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
      maxAttempts,
      onProgress: (p) => {
        if (!restarted && p.filesDone >= 8) restarted = restart();
      },
    }).then(
      (r) => ({ uploaded: r.outcome.uploaded, manifest: r.manifest, error: undefined }),
      (error: unknown) => ({ uploaded: (error as ZillizUploadError).completed, manifest: undefined, error }),
    );
    await restarted;
    expect(restarted).toBeDefined();
    if (maxAttempts === 1) expect(first.error).toBeDefined();
    if (first.error) {
      expect(first.error).toBeInstanceOf(ZillizUploadError);
      expect((first.error as Error).message).toMatch(/arrived/);
    }
    // Everything reported as uploaded is there, byte for byte: a rerun may trust it.
    expect(first.uploaded.length).toBeGreaterThanOrEqual(8);
    await assertIntact(first.uploaded);

    // The rerun plans against what was recorded and sends exactly the rest,
    // except a file whose PUT the store committed just before the restart cut
    // its answer: that one is found there intact and adopted, not sent again.
    const scan = await scanSource(dir);
    const recorded: Manifest = Object.fromEntries(first.uploaded.map((rel) => [rel, scan.manifest[rel]]));
    emu.clearRequests();
    const second = await run(recorded, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    const missing = Object.keys(files).filter((rel) => !first.uploaded.includes(rel)).sort();
    expect([...second.outcome.uploaded, ...second.outcome.adopted].sort()).toEqual(missing);
    expect(second.outcome.adopted.filter((rel) => second.outcome.uploaded.includes(rel))).toEqual([]);
    const stored = emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();
    expect(stored).toEqual(Object.keys(files).sort());
    await assertIntact(Object.keys(files));
    expect(await pendingUploads(client, "up")).toEqual([]);
  });
});
