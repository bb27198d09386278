// Uploads into volumes: the volume dialect of apply, Google Cloud's Bearer
// tokens (single PUT, multipart, listing, deletion), maxFileNumber, and
// where requests go for each cloud.
import { randomBytes } from "node:crypto";
import { ZillizClient, StorageRef, UploadTarget } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizValidationError } from "../../provider/errors";
import { deleteFiles, executeUpload, listRemoteFiles, planChanges, scanSource } from "../../provider/upload";
import { s3Addressing } from "../../provider/upload/s3";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const MiB = 1024 * 1024;

describe("uploads into a volume", () => {
  let emu: Emulator;
  let client: ZillizClient;
  let dir: string;

  async function setup(regionId: string, options: Parameters<typeof startEmulator>[0] = {}) {
    emu = await startEmulator(options);
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createVolume({ projectId: "p", regionId, volumeName: "vol" });
    dir = await mkTmp();
  }
  afterEach(async () => {
    await client?.close();
    await emu?.stop();
    await rmTmp(dir);
  });

  async function upload(targets = client as { applyUploadTarget(req: StorageRef): Promise<UploadTarget> }) {
    const scan = await scanSource(dir);
    const plan = planChanges(undefined, scan.manifest);
    return executeUpload(
      { volumeName: "vol", path: "data/", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: [] },
      { targets, multipartThreshold: 5 * MiB, partSize: 5 * MiB },
    );
  }
  const ok = (kind: string) => emu.requests().filter((r) => r.kind === kind && r.status === 200);

  test("Google Cloud: single PUTs and a multipart upload with the session token as a Bearer token, then listed and deleted", async () => {
    await setup("gcp-us-west1");
    const big = randomBytes(11 * MiB);
    await writeTree(dir, { "a.json": '{"a":1}', "sub/b.json": '{"b":2}', "big.bin": big });
    const outcome = await upload();
    expect(outcome.uploaded).toEqual(["a.json", "big.bin", "sub/b.json"]);
    expect(outcome.applies).toBe(1);
    const prefix = outcome.stagePrefix;
    expect(prefix).not.toBe("");
    // The emulator refuses SigV4 for a Google Cloud volume, as GCS does: these succeeded with Bearer.
    expect(ok("s3:put")).toHaveLength(2);
    expect(ok("s3:initiate")).toHaveLength(1);
    expect(ok("s3:part")).toHaveLength(3);
    expect(ok("s3:complete")).toHaveLength(1);
    expect((await emu.readObject(`${prefix}data/big.bin`)).equals(big)).toBe(true);
    expect((await emu.readObject(`${prefix}data/sub/b.json`)).toString()).toBe('{"b":2}');

    expect(await listRemoteFiles(client, { volumeName: "vol", path: "data/" })).toEqual(
      new Map([["a.json", 7], ["big.bin", big.length], ["sub/b.json", 7]]),
    );
    expect(await deleteFiles({ volumeName: "vol", path: "data/" }, ["a.json", "big.bin"], { targets: client })).toEqual({ deleted: ["a.json", "big.bin"], foreign: [] });
    expect(emu.listObjects(prefix).map((o) => o.key)).toEqual([`${prefix}data/sub/b.json`]);
  });

  test("Google Cloud: a token the store refuses (401) is renewed by applying again", async () => {
    await setup("gcp-us-west1");
    await writeTree(dir, { "a.json": "A", "big.bin": randomBytes(6 * MiB) });
    let applies = 0;
    const outcome = await upload({
      applyUploadTarget: async (req) => {
        const t = await client.applyUploadTarget(req);
        // The first answer's token is one the store does not know.
        return ++applies === 1 ? { ...t, credentials: { ...t.credentials, sessionToken: "revoked-token" } } : t;
      },
    });
    expect(outcome.uploaded).toEqual(["a.json", "big.bin"]);
    expect(applies).toBe(2);
    expect(emu.requests().some((r) => r.status === 401)).toBe(true);
  });

  test("more files than condition.maxFileNumber are refused before any byte moves, naming the field and the fix", async () => {
    await setup("aws-us-west-2", { maxFileNumber: 2 });
    await writeTree(dir, { "1.json": "1", "2.json": "2", "3.json": "3" });
    const err = await upload().catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("source");
    expect(err.message).toMatch(/3 files exceed the volume's limit of 2 files per upload \(condition\.maxFileNumber\).*nothing was uploaded.*several VolumeFiles/s);
    // Only a look at what an interrupted run may have left (reads; nothing is written).
    expect(emu.requests().filter((r) => r.kind.startsWith("s3:") && r.kind !== "s3:head" && r.kind !== "s3:list")).toEqual([]);
  });
});

describe("where object requests go", () => {
  const target = (endpoint: string, cloud?: string, region = "us-west-2") => ({ endpoint, cloud, region });

  test("an endpoint without a scheme is https, as the SDKs speak to it", () => {
    const { url, pathStyle } = s3Addressing(target("127.0.0.1:9443", "aws"));
    expect(url.href).toBe("https://127.0.0.1:9443/");
    expect(pathStyle).toBe(true);
    expect(s3Addressing(target("s3.us-west-2.amazonaws.com", "aws"))).toMatchObject({ pathStyle: false });
    expect(s3Addressing(target("s3.us-west-2.amazonaws.com")).url.protocol).toBe("https:");
  });

  test("Google Cloud hosts take the bucket in the path, as minio-py sends it to non-AWS hosts", () => {
    expect(s3Addressing(target("storage.googleapis.com", "gcp"))).toMatchObject({ pathStyle: true });
  });

  test("Alibaba Cloud: the region's OSS endpoint replaces the answer's", () => {
    const { url, pathStyle } = s3Addressing(target("ignored.example.com", "ali", "cn-hangzhou"));
    expect(url.host).toBe("oss-cn-hangzhou.aliyuncs.com");
    expect(pathStyle).toBe(false);
  });

  test("plain http only for loopback", () => {
    expect(s3Addressing(target("http://127.0.0.1:9000", "aws")).url.protocol).toBe("http:");
    expect(() => s3Addressing(target("http://s3.example.com", "aws"))).toThrow(ZillizValidationError);
  });
});
