// Moving bytes into a stage on the emulator: what arrives, what is sent
// again, what happens when credentials expire or the store fails.
import { randomBytes } from "node:crypto";
import { closeSync, openSync, promises as fs, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import type { StageUploadTarget } from "../../provider/client/schemas";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizStoreError, ZillizUploadError, ZillizValidationError } from "../../provider/errors";
import {
  deleteFiles,
  ExecuteOptions,
  executeUpload,
  hashFiles,
  hashListing,
  identitiesOf,
  listSource,
  Manifest,
  planChanges,
  scanSource,
  UploadProgress,
} from "../../provider/upload";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { pendingUploads } from "../helpers/s3";

const PREFIX = "stages/p/up/";
const MiB = 1024 * 1024;

describe("executeUpload", () => {
  let emu: Emulator | undefined;
  let client: StageClient | undefined;
  let dir: string;
  let dataDir: string;

  async function setup(options: Omit<NonNullable<Parameters<typeof startEmulator>[0]>, "dataDir"> = {}) {
    dataDir = await mkTmp("zstages-emu-");
    emu = await startEmulator({ ...options, dataDir });
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
    dir = await mkTmp();
    return { emu, client };
  }

  afterEach(async () => {
    await client?.close();
    await emu?.stop();
    client = undefined;
    emu = undefined;
    await rmTmp(dir);
    await rmTmp(dataDir);
  });

  /** Scan `dir`, plan against `previous`, execute. */
  async function sync(previous: Manifest | undefined, opts: Partial<ExecuteOptions> = {}, stagePath = "data/") {
    const scan = await scanSource(dir);
    const plan = planChanges(previous, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: stagePath, root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete },
      { targets: client!, ...opts },
    );
    return { manifest: scan.manifest, outcome };
  }

  /** Everything stored under the stage, relative path -> bytes. */
  async function staged(): Promise<Record<string, Buffer>> {
    const out: Record<string, Buffer> = {};
    for (const o of emu!.listObjects(PREFIX)) out[o.key.slice(PREFIX.length)] = await emu!.readObject(o.key);
    return out;
  }

  const kinds = (kind: string) => emu!.requests().filter((r) => r.kind === kind);
  /** Keys whose upload finished (single PUT or multipart complete), below the stage prefix. */
  const sent = () =>
    emu!
      .requests()
      .filter((r) => (r.kind === "s3:put" || r.kind === "s3:complete") && r.status === 200)
      .map((r) => r.key!.slice(PREFIX.length))
      .sort();

  test("a tree arrives byte for byte at stagePrefix + path + relative path; reruns send only changes and remove deletions", async () => {
    await setup();
    const big = randomBytes(12 * MiB);
    await writeTree(dir, { "a.json": "A", "données/ü.parquet": "PARQUET", "ünï/b 🚀.json": "B", "empty.json": "", "nested/deep/c.npy": "C", "big.bin": big });
    await fs.mkdir(path.join(dir, "hollow"));
    const progress: UploadProgress[] = [];
    const first = await sync(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB, onProgress: (p) => progress.push(p) });

    const remote = await staged();
    expect(Object.keys(remote).sort()).toEqual([
      "data/a.json",
      "data/big.bin",
      "data/données/ü.parquet",
      "data/empty.json",
      "data/nested/deep/c.npy",
      "data/ünï/b 🚀.json",
    ]);
    for (const [rel] of Object.entries(first.manifest)) {
      expect(remote[`data/${rel}`].equals(await fs.readFile(path.join(dir, rel)))).toBe(true);
    }
    expect(remote["data/big.bin"].equals(big)).toBe(true);
    expect(remote["data/empty.json"].length).toBe(0);
    expect(kinds("s3:part").map((r) => r.status)).toEqual([200, 200, 200]);
    expect(kinds("s3:complete")).toHaveLength(1);
    expect(first.outcome).toMatchObject({ stagePrefix: PREFIX, bytesSent: big.length + 10, applies: 1 });
    expect(first.outcome.uploaded).toEqual(Object.keys(first.manifest));
    expect(first.outcome.keys["données/ü.parquet"]).toBe(`${PREFIX}data/données/ü.parquet`);
    // Progress after every part and every file, ending complete.
    expect(progress.length).toBeGreaterThanOrEqual(6 + 3);
    expect(progress[progress.length - 1]).toEqual({ filesDone: 6, filesTotal: 6, bytesDone: big.length + 10, bytesTotal: big.length + 10 });

    // Change one file: only that one goes.
    emu!.clearRequests();
    await writeTree(dir, { "a.json": "A2" });
    const second = await sync(first.manifest);
    expect(sent()).toEqual(["data/a.json"]);
    expect(second.outcome.uploaded).toEqual(["a.json"]);
    expect((await staged())["data/a.json"].toString()).toBe("A2");

    // Delete some locally: removed remotely, nothing uploaded.
    emu!.clearRequests();
    await fs.rm(path.join(dir, "nested"), { recursive: true });
    await fs.rm(path.join(dir, "big.bin"));
    const third = await sync(second.manifest);
    expect(third.outcome.deleted).toEqual(["big.bin", "nested/deep/c.npy"]);
    expect(third.outcome.uploaded).toEqual([]);
    expect(sent()).toEqual([]);
    expect(kinds("s3:deleteMany")).toHaveLength(1);
    expect(Object.keys(await staged()).sort()).toEqual(["data/a.json", "data/données/ü.parquet", "data/empty.json", "data/ünï/b 🚀.json"]);
  });

  test("credentials that expire mid-run are renewed and the run completes", async () => {
    await setup({ credentialTtlSeconds: 2 });
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`f${i}.json`] = `file ${i}`;
    await writeTree(dir, files);
    // Slow puts stretch the run past the credentials' lifetime.
    emu!.faults.add({ target: "s3:put", count: 8, delayMs: 600 });
    const { outcome } = await sync(undefined, { concurrency: 2, refreshMarginMs: 0 });
    expect(outcome.uploaded).toHaveLength(8);
    expect(outcome.applies).toBeGreaterThan(1);
    expect(kinds("apply").length).toBeGreaterThan(1);
    expect(Object.keys(await staged())).toHaveLength(8);
  });

  test("a token the store calls expired is renewed at once and the request retried", async () => {
    await setup({ credentialTtlSeconds: 1 });
    await writeTree(dir, { "late.json": "late" });
    const scan = await scanSource(dir);
    // Hands out credentials that are already dead but claim an hour, the way a skewed clock would.
    let calls = 0;
    const stale = {
      applyUploadTarget: async (req: { stageName: string; path: string }) => {
        const t = await client!.applyUploadTarget(req);
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
    expect(outcome.applies).toBe(2);
    expect(kinds("s3:put").map((r) => r.status)).toEqual([400, 200]);
  });

  test("an injected 500 twice is retried and the run completes", async () => {
    await setup();
    await writeTree(dir, { "a.json": "A" });
    emu!.faults.add({ target: "s3:put", count: 2, status: 500 });
    const { outcome } = await sync(undefined);
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(kinds("s3:put").map((r) => r.status)).toEqual([500, 500, 200]);
    expect((await staged())["data/a.json"].toString()).toBe("A");
  });

  test("throttling, a reset connection and a stalled request are all retried", async () => {
    await setup();
    await writeTree(dir, { "a.json": "A", "b.json": "B", "c.json": "C" });
    emu!.faults.add({ target: "s3:put", count: 1, status: 503 }); // SlowDown
    emu!.faults.add({ target: "s3:put", count: 1, status: 429, retryAfterSeconds: 0 });
    emu!.faults.add({ target: "s3:put", count: 1, mode: "reset" });
    emu!.faults.add({ target: "s3:put", count: 1, mode: "stall" });
    const { outcome } = await sync(undefined, { concurrency: 1, requestTimeoutMs: 500 });
    expect(outcome.uploaded).toEqual(["a.json", "b.json", "c.json"]);
    expect(kinds("s3:put").map((r) => r.status)).toEqual([503, 429, -1, -1, 200, 200, 200]);
    expect(Object.keys(await staged()).sort()).toEqual(["data/a.json", "data/b.json", "data/c.json"]);
  });

  test("a body corrupted on its way in is refused by the store and sent again: the object holds the file's bytes, whole or in parts", async () => {
    await setup();
    const big = randomBytes(11 * MiB);
    await writeTree(dir, { "big.bin": big, "small.json": "small" });
    // The signed SHA-256 guards a whole object; a part goes unsigned, and its CRC32 guards it.
    emu!.faults.add({ target: "s3:put", mode: "corrupt" });
    emu!.faults.add({ target: "s3:part", skip: 1, mode: "corrupt" });
    const { outcome } = await sync(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    expect(outcome.uploaded.sort()).toEqual(["big.bin", "small.json"]);
    expect(kinds("s3:put").map((r) => r.status)).toEqual([400, 200]);
    expect(kinds("s3:part").map((r) => r.status).sort()).toEqual([200, 200, 200, 400]);
    const got = await staged();
    expect(got["data/big.bin"].equals(big)).toBe(true);
    expect(got["data/small.json"].toString()).toBe("small");
  });

  test("a persistent failure names the file, the S3 code and what arrived; a rerun sends only the rest", async () => {
    await setup();
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`f${i}.json`] = `file ${i}`;
    await writeTree(dir, files);
    emu!.faults.add({ target: "s3:put", skip: 2, count: 100, status: 403 });
    let creds: StageUploadTarget["credentials"] | undefined;
    const recording = {
      applyUploadTarget: async (req: { stageName: string; path: string }) => {
        const t = await client!.applyUploadTarget(req);
        creds = t.credentials;
        return t;
      },
    };
    const err = (await sync(undefined, { concurrency: 1, targets: recording }).catch((e) => e)) as ZillizUploadError;
    emu!.faults.clear();
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/Could not upload f2\.json into stage up \(InjectedFault: /);
    expect(err.message).toMatch(/2 of 5 files arrived/);
    expect(err.message).toMatch(/run again to send only what is missing/);
    expect(err.completed).toEqual(["f0.json", "f1.json"]);
    expect(err.deleted).toEqual([]);
    expect(Object.keys(await staged()).sort()).toEqual(["data/f0.json", "data/f1.json"]);
    // Forbidden is not worth retrying.
    expect(kinds("s3:put").map((r) => r.status)).toEqual([200, 200, 403]);
    // The temporary credentials appear nowhere in what the caller can see.
    const visible = `${err.message} ${String(err.stack)} ${(err.cause as Error)?.message}`;
    for (const secret of [creds!.tmpAK, creds!.tmpSK, creds!.sessionToken]) expect(visible).not.toContain(secret);

    emu!.clearRequests();
    const scan = await scanSource(dir);
    const recorded: Manifest = {};
    for (const rel of err.completed) recorded[rel] = scan.manifest[rel];
    const rerun = await sync(recorded);
    expect(sent()).toEqual(["data/f2.json", "data/f3.json", "data/f4.json"]);
    expect(rerun.outcome.uploaded).toEqual(["f2.json", "f3.json", "f4.json"]);
    expect(Object.keys(await staged())).toHaveLength(5);
  });

  test("a failed multipart upload is aborted, not left pending; files that arrived are reported", async () => {
    await setup();
    await writeTree(dir, { "big.bin": randomBytes(11 * MiB), "small.json": "s" });
    emu!.faults.add({ target: "s3:part", skip: 1, count: 100, status: 500 });
    const err = await sync(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB, maxAttempts: 2 }).catch((e) => e);
    emu!.faults.clear();
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/Could not upload big\.bin .*InternalError.*gave up after 2 attempts/);
    expect(err.completed).toEqual(["small.json"]);
    expect(kinds("s3:abort").length).toBeGreaterThanOrEqual(1);
    expect(kinds("s3:complete")).toEqual([]);
    expect(await pendingUploads(client!, "up")).toEqual([]);
    expect(emu!.listObjects(PREFIX).map((o) => o.key)).toEqual([`${PREFIX}data/small.json`]);
  });

  test("a total above maxContentLength is refused before any byte is sent", async () => {
    await setup({ maxContentLength: 10 });
    await writeTree(dir, { "a.json": "123456", "b.json": "7890123" });
    const err = await sync(undefined).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("source");
    expect(err.message).toMatch(/2 files totalling 13 bytes exceed the stage's upload limit of 10 bytes.*nothing was uploaded.*exclude/);
    // Only a look at what an interrupted run may have left (it could have brought the total under the limit).
    expect(emu!.requests().filter((r) => r.kind.startsWith("s3:") && r.kind !== "s3:head" && r.kind !== "s3:list")).toEqual([]);
    expect(emu!.listObjects()).toEqual([]);
  });

  test("a file modified between scan and upload is named and nothing is stored for it", async () => {
    await setup();
    await writeTree(dir, { "a.json": "original", "b.json": "fine" });
    const scan = await scanSource(dir);
    await writeTree(dir, { "a.json": "modified" }); // same size, other bytes
    const err = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json", "b.json"], delete: [] },
      { targets: client!, concurrency: 1 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(new RegExp(`a\\.json changed since it was scanned \\(expected 8 bytes, sha256 ${scan.manifest["a.json"].sha256}`));
    expect(err.message).toMatch(/run again/i);
    expect(kinds("s3:put")).toEqual([]);
    expect(emu!.listObjects()).toEqual([]);
    expect(err.completed).toEqual([]);

    // Grown or removed files are caught too.
    await writeTree(dir, { "a.json": "original plus" });
    const grown = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] },
      { targets: client! },
    ).catch((e) => e);
    expect(grown.message).toMatch(/a\.json changed since it was scanned/);
    await fs.rm(path.join(dir, "a.json"));
    const gone = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] },
      { targets: client! },
    ).catch((e) => e);
    expect(gone.message).toMatch(/a\.json changed since it was scanned/);
    expect(emu!.listObjects()).toEqual([]);
  });

  test("a multipart file modified after its scan is caught before completion and aborted", async () => {
    await setup();
    const big = randomBytes(11 * MiB);
    await writeTree(dir, { "big.bin": big });
    const scan = await scanSource(dir);
    big[big.length - 1] ^= 0xff; // same size, the last part differs
    await writeTree(dir, { "big.bin": big });
    const err = await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest: scan.manifest, upload: ["big.bin"], delete: [] },
      { targets: client!, multipartThreshold: 5 * MiB, partSize: 5 * MiB },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/big\.bin changed since it was scanned/);
    expect(kinds("s3:complete")).toEqual([]);
    expect(kinds("s3:abort")).toHaveLength(1);
    expect(await pendingUploads(client!, "up")).toEqual([]);
    expect(emu!.listObjects()).toEqual([]);
  });

  test("a large file goes with the CRC32s the scan computed: bytes changed after the hash, during or before the upload, are refused; damage in transit is sent again", async () => {
    await setup();
    // From 16 MiB (what goes multipart by default) the scan computes part CRC32s.
    const big = randomBytes(17 * MiB);
    await writeTree(dir, { "big.bin": big });
    const file = path.join(dir, "big.bin");
    // Default part size (8 MiB), the one the scan cuts on: three parts.
    const opts = { multipartThreshold: 5 * MiB, concurrency: 1 };
    const listing = await listSource(dir);
    const { manifest } = await hashListing(listing);
    const hashed = listing.files[0].identity.hashed!;
    expect(hashed).toMatchObject({ sha256: manifest["big.bin"].sha256, size: big.length, partSize: 8 * MiB });
    expect(hashed.crc32).toEqual([crc32(big.subarray(0, 8 * MiB)), crc32(big.subarray(8 * MiB, 16 * MiB)), crc32(big.subarray(16 * MiB))]);
    const upload = { stageName: "up", path: "data/", root: listing.root, manifest, upload: ["big.bin"], delete: [], identities: identitiesOf(listing) };
    // Each try under a path of its own: an object already there with the planned digest would be adopted, not sent.
    const under = (p: string) => ({ ...upload, path: p });

    // A byte flipped on its way in: refused against the scan's CRC32, sent again, stored right.
    emu!.faults.add({ target: "s3:part", skip: 1, mode: "corrupt" });
    await executeUpload(upload, { targets: client!, ...opts });
    expect(kinds("s3:part").map((r) => r.status)).toEqual([200, 400, 200, 200]);
    expect((await staged())["data/big.bin"].equals(big)).toBe(true);

    // The last part rewritten once the first is sent: its bytes are not the ones hashed.
    const flip = () => {
      const fd = openSync(file, "r+");
      writeSync(fd, Buffer.alloc(1, big[big.length - 1] ^ 0xff), 0, 1, big.length - 1);
      closeSync(fd);
    };
    const onProgress = (p: UploadProgress) => {
      if (p.bytesDone === 8 * MiB) flip();
    };
    emu!.clearRequests();
    const err = await executeUpload(under("during/"), { targets: client!, ...opts, onProgress }).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect(err.message).toMatch(/big\.bin changed since it was scanned .*found other bytes in part 3 than the scan hashed/);
    // Refused once, not sent again: a changed file is no transient failure.
    expect(kinds("s3:part").map((r) => r.status)).toEqual([200, 200, 400]);
    expect(kinds("s3:complete")).toEqual([]);
    expect(await pendingUploads(client!, "up")).toEqual([]);
    expect(Object.keys(await staged())).toEqual(["data/big.bin"]);

    // Changed between the scan and the upload (the file now ends in the flipped byte): refused the same way.
    const again = await executeUpload(under("after/"), { targets: client!, ...opts }).catch((e) => e);
    expect(again.message).toMatch(/big\.bin changed since it was scanned .*other bytes in part 3/);
    expect(Object.keys(await staged())).toEqual(["data/big.bin"]);

    // Part checksums are used only for the content and the cut they were computed for; otherwise the upload hashes.
    await writeTree(dir, { "big.bin": big });
    const fresh = await listSource(dir);
    const scanned = await hashListing(fresh);
    const elsewhere = { ...upload, manifest: scanned.manifest, identities: identitiesOf(fresh) };
    // Cut in 6 MiB parts, not the scan's 8 MiB: as many parts (three), other boundaries.
    await executeUpload({ ...elsewhere, path: "cut/" }, { targets: client!, ...opts, partSize: 6 * MiB });
    // A record of other bytes (another file's SHA-256 and CRC32s) beside this file's entry.
    const other = randomBytes(big.length);
    fresh.files[0].identity.hashed = { sha256: "0".repeat(64), size: other.length, partSize: 8 * MiB, crc32: [crc32(other.subarray(0, 8 * MiB)), crc32(other.subarray(8 * MiB, 16 * MiB)), crc32(other.subarray(16 * MiB))] };
    await executeUpload({ ...elsewhere, path: "other/" }, { targets: client!, ...opts });
    const got = await staged();
    expect(got["cut/big.bin"].equals(big) && got["other/big.bin"].equals(big)).toBe(true);

    // A scan that reads nothing (the cache vouches for the file) keeps no part checksums from an earlier one.
    await hashListing(listing, { cache: manifest });
    expect(listing.files[0].identity.hashed).toBeUndefined();

    // Enough large files that this thread and a worker both hash some: both compute the same CRC32s, part by part.
    const many: { path: string; size: number }[] = [];
    const bodies: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      bodies.push(randomBytes(17 * MiB));
      many.push({ path: path.join(dataDir, `many-${i}.bin`), size: 17 * MiB });
      await fs.writeFile(many[i].path, bodies[i]);
    }
    const results = await hashFiles(many, 2);
    expect(results.map((r) => r.parts)).toEqual(bodies.map((b) => ({ partSize: 8 * MiB, crc32: [crc32(b.subarray(0, 8 * MiB)), crc32(b.subarray(8 * MiB, 16 * MiB)), crc32(b.subarray(16 * MiB))] })));
    // Below 16 MiB a file goes in one PUT the store checks against its SHA-256: no part CRC32s.
    await fs.writeFile(many[0].path, bodies[0].subarray(0, 16 * MiB - 1));
    expect((await hashFiles([{ path: many[0].path, size: 16 * MiB - 1 }]))[0].parts).toBeUndefined();
    // At 16 MiB exactly: two whole parts, and no empty third.
    await fs.writeFile(many[0].path, bodies[0].subarray(0, 16 * MiB));
    expect((await hashFiles([{ path: many[0].path, size: 16 * MiB }]))[0].parts).toEqual({ partSize: 8 * MiB, crc32: [crc32(bodies[0].subarray(0, 8 * MiB)), crc32(bodies[0].subarray(8 * MiB, 16 * MiB))] });
  });

  test("deleteFiles (what destroy runs) removes in DeleteObjects batches of 1000, without a source", async () => {
    await setup();
    const tree: Record<string, string> = { "keep.json": "k" };
    for (let i = 0; i < 1100; i++) tree[`old/${i}.json`] = String(i);
    await writeTree(dir, tree);
    const { manifest } = await sync(undefined);
    const present = Object.keys(tree).filter((rel) => rel !== "keep.json");
    const doomed = [...present, ...Array.from({ length: 500 }, (_, i) => `never-there/${i}.json`)];
    emu!.clearRequests();
    const outcome = await deleteFiles({ stageName: "up", path: "data/" }, doomed, { targets: client! });
    expect(outcome.deleted).toEqual([...doomed].sort());
    // One listing shows what is there; keys already gone are not sent.
    expect(kinds("s3:list")).toHaveLength(2);
    expect(kinds("s3:deleteMany").map((r) => r.status)).toEqual([200, 200]);
    expect(Object.keys(await staged())).toEqual(["data/keep.json"]);
    expect(manifest["keep.json"]).toBeDefined();
  });

  test("a refused removal is a ZillizUploadError whose cause names the store's code and status", async () => {
    await setup();
    await writeTree(dir, { "a.json": "a" });
    await sync(undefined);
    emu!.faults.add({ target: "s3:deleteMany", count: 10, status: 403 });
    const err = await deleteFiles({ stageName: "up", path: "data/" }, ["a.json"], { targets: client! }).catch((e: unknown) => e);
    emu!.faults.clear();
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err as Error).message).toMatch(/Could not delete a\.json from stage up .*0 of 1 removals were done/);
    expect((err as Error).cause).toBeInstanceOf(ZillizStoreError);
    expect((err as Error).cause).toMatchObject({ code: "ZILLIZ_ERR_STORE", status: 403 });
    // Forbidden is final: one attempt, and the object is still there.
    expect(kinds("s3:deleteMany")).toHaveLength(1);
    expect(Object.keys(await staged())).toEqual(["data/a.json"]);
  });

  test("nothing to do makes no call at all", async () => {
    await setup();
    const outcome = await executeUpload({ stageName: "up", path: "", root: dir, manifest: {}, upload: [], delete: [] }, { targets: client! });
    expect(outcome).toMatchObject({ uploaded: [], deleted: [], bytesSent: 0, applies: 0 });
    expect(kinds("apply")).toEqual([]);
  });

  test("a key longer than S3 allows is refused before anything is sent", async () => {
    await setup();
    const name = `${"n".repeat(250)}.json`;
    await writeTree(dir, { [`${"d".repeat(250)}/${"e".repeat(250)}/${"f".repeat(250)}/${name}`]: "x", "ok.json": "y" });
    const err = await sync(undefined).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.message).toMatch(/above S3's limit of 1024/);
    expect(emu!.requests().filter((r) => r.kind.startsWith("s3:"))).toEqual([]);
  });
});

describe("executeUpload endpoint checks", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkTmp();
    await writeTree(dir, { "a.json": "A" });
  });
  afterEach(() => rmTmp(dir));

  /** An apply answer that is never used for traffic: the endpoint check refuses it first. */
  const answer = (endpoint: string): StageUploadTarget => ({
    stageName: "up",
    stagePrefix: "stages/p/up/",
    prefix: "stages/p/up/",
    endpoint,
    bucketName: "b",
    region: "us-west-2",
    condition: { maxContentLength: 1e9 },
    credentials: { tmpAK: "AK", tmpSK: "SK", sessionToken: "TOKEN", expireTime: new Date(Date.now() + 3_600_000).toISOString() },
  });

  test.each([["http://s3.example.com"], ["http://10.0.0.1:9000"], ["ftp://s3.example.com"]])("plain http or another scheme outside loopback (%s) is refused on field endpoint", async (endpoint) => {
    const scan = await scanSource(dir);
    const err = await executeUpload(
      { stageName: "up", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] },
      { targets: { applyUploadTarget: async () => answer(endpoint) } },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("endpoint");
  });
});
