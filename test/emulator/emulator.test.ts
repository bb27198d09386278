// The emulator as its users meet it: the docs' curl commands, an ordinary S3
// client with the temporary credentials, restarts, and the CLI.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startEmulator, Emulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import type { StageUploadTarget } from "../../provider/client/schemas";
import { EMULATOR_CLI, startEmulatorCli } from "../helpers/emulator-cli";
import { API_ERROR_CODES } from "../../provider/client/api-codes";
import { mkTmp, rmTmp } from "../helpers/fs";

const run = promisify(execFile);

function s3For(target: StageUploadTarget, overrides: Partial<{ secret: string; checksums: boolean }> = {}): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: target.credentials.tmpAK,
      secretAccessKey: overrides.secret ?? target.credentials.tmpSK,
      sessionToken: target.credentials.sessionToken,
    },
    ...(overrides.checksums === false ? { requestChecksumCalculation: "WHEN_REQUIRED" as const } : {}),
    maxAttempts: 1,
  });
}

describe("emulator", () => {
  let dataDir: string;
  let emu: Emulator;

  beforeEach(async () => {
    dataDir = await mkTmp();
    emu = await startEmulator({ dataDir, apiKey: "emulator-test-key" });
  });
  afterEach(async () => {
    await emu.stop();
    await rmTmp(dataDir);
  });

  test("the docs' curl sequence works as written", async () => {
    const env = { ...process.env, BASE_URL: emu.url, TOKEN: emu.apiKey, STAGE_NAME: "my_stage" };
    const sh = (script: string) => run("bash", ["-c", script], { env }).then((r) => JSON.parse(r.stdout));
    const created = await sh(`curl -s --request POST \\
--url "\${BASE_URL}/v2/stages/create" \\
--header "Authorization: Bearer \${TOKEN}" \\
--header "Content-Type: application/json" \\
-d '{
    "projectId": "proj-xxxxxxxxxxxxxxxxxxxxxxx",
    "regionId": "aws-us-west-1",
    "stageName": "my_stage"
}'`);
    expect(created).toEqual({ code: 0, message: "success", data: { stageName: "my_stage" } });
    const listed = await sh(`curl -s --request GET \\
--url "\${BASE_URL}/v2/stages?projectId=proj-xxxxxxxxxxxxxxxxxxxxxxx" \\
--header "Authorization: Bearer \${TOKEN}" \\
--header "Content-Type: application/json"`);
    // code 0, not the 200 of the first docs: every SDK fails on 200.
    expect(listed).toEqual({ code: 0, message: "success", data: { count: 1, currentPage: 1, pageSize: 10, stages: [{ stageName: "my_stage" }] } });
    const deleted = await sh(`curl -s --request DELETE \\
--url "\${BASE_URL}/v2/stages/\${STAGE_NAME}" \\
--header "Authorization: Bearer \${TOKEN}" \\
--header "Content-Type: application/json"`);
    expect(deleted).toEqual({ code: 0, message: "success", data: { stageName: "my_stage" } });
  });

  test("a request with a wrong key is refused; malformed bodies name the field (HTTP 200 + code, as the service)", async () => {
    const post = (body: string, key = emu.apiKey) =>
      fetch(`${emu.url}/v2/stages/create`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body });
    const wrong = await post("{}", "nope");
    expect(wrong.status).toBe(200);
    expect(await wrong.json()).toMatchObject({ code: API_ERROR_CODES.invalidApiKey, message: expect.stringMatching(/API key/) });
    const notJson = await post("{oops");
    expect(notJson.status).toBe(200);
    expect(await notJson.json()).toMatchObject({ code: API_ERROR_CODES.malformedRequest, message: expect.stringMatching(/not valid JSON/) });
    const missing = await post(JSON.stringify({ projectId: "p", stageName: "s" }));
    expect(await missing.json()).toMatchObject({ code: API_ERROR_CODES.malformedRequest, message: expect.stringMatching(/regionId/) });
  });

  describe("object endpoint", () => {
    let target: StageUploadTarget;
    let client: StageClient;

    beforeEach(async () => {
      client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
      await client.createStage({ projectId: "p", regionId: "r", stageName: "objs" });
      target = await client.applyUploadTarget({ stageName: "objs", path: "" });
    });
    afterEach(() => client.close());

    test.each([
      ["with the SDK's default checksums (aws-chunked bodies)", true],
      ["with checksums only when required", false],
    ])("put, get, head, list, delete %s", async (_name, checksums) => {
      const s3 = s3For(target, { checksums });
      const key = `${target.stagePrefix}dir/ünï 𝄞.json`;
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: key, Body: Buffer.from('{"a":1}') }));
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${target.stagePrefix}dir/b`, Body: "", ContentLength: 0 }));
      const got = await s3.send(new GetObjectCommand({ Bucket: target.bucketName, Key: key }));
      expect(await got.Body!.transformToString()).toBe('{"a":1}');
      expect((await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: key }))).ContentLength).toBe(7);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: target.stagePrefix }));
      expect(listed.Contents!.map((c) => c.Key)).toEqual([`${target.stagePrefix}dir/b`, key]);
      await s3.send(new DeleteObjectsCommand({ Bucket: target.bucketName, Delete: { Objects: [{ Key: key }, { Key: `${target.stagePrefix}dir/b` }] } }));
      expect(emu.listObjects()).toEqual([]);
      s3.destroy();
    });

    test("user metadata survives; CopyObject copies bytes and replaces metadata (what sync tools rely on)", async () => {
      const s3 = s3For(target, { checksums: false });
      const key = `${target.stagePrefix}m.json`;
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: key, Body: "meta", Metadata: { mtime: "1" } }));
      expect((await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: key }))).Metadata).toEqual({ mtime: "1" });
      await s3.send(
        new CopyObjectCommand({ Bucket: target.bucketName, Key: key, CopySource: `${target.bucketName}/${key}`, Metadata: { mtime: "2" }, MetadataDirective: "REPLACE" }),
      );
      expect((await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: key }))).Metadata).toEqual({ mtime: "2" });
      expect((await emu.readObject(key)).toString()).toBe("meta");
      s3.destroy();
    });

    test("multipart upload, abort and the list of pending uploads", async () => {
      const s3 = s3For(target, { checksums: false });
      const key = `${target.stagePrefix}big.bin`;
      const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(5 * 1024 * 1024, 2), Buffer.alloc(5 * 1024 * 1024, 3), Buffer.from("tail")];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: key }));
      const done = [];
      for (let i = 0; i < parts.length; i++) {
        const r = await s3.send(new UploadPartCommand({ Bucket: target.bucketName, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
        done.push({ PartNumber: i + 1, ETag: r.ETag });
      }
      const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucketName, Prefix: target.stagePrefix }));
      expect(pending.Uploads).toHaveLength(1);
      const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: target.bucketName, Key: key, UploadId, MultipartUpload: { Parts: done } }));
      expect(completed.ETag).toMatch(/-4"$/);
      expect((await emu.readObject(key)).equals(Buffer.concat(parts))).toBe(true);

      const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: `${key}.2` }));
      await s3.send(new AbortMultipartUploadCommand({ Bucket: target.bucketName, Key: `${key}.2`, UploadId: second.UploadId }));
      const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucketName, Prefix: target.stagePrefix }));
      expect(after.Uploads ?? []).toHaveLength(0);
      s3.destroy();
    });

    test("XML written the way Go clients write it (quotes as &#34;) is understood", async () => {
      const s3 = s3For(target, { checksums: false });
      // Re-encode the SDK's request body as rclone and aws-sdk-go do, before it is signed.
      s3.middlewareStack.add(
        (next) => async (args: any) => {
          if (typeof args.request?.body === "string" && args.request.body.includes("<CompleteMultipartUpload")) {
            args.request.body = args.request.body.replace(/&quot;|"(?=[0-9a-f]{32})|(?<=[0-9a-f]{32})"/g, "&#34;");
            args.request.headers["content-length"] = String(Buffer.byteLength(args.request.body));
            expect(args.request.body).toContain("&#34;");
          }
          return next(args);
        },
        { step: "build", priority: "low" },
      );
      const key = `${target.stagePrefix}go-style.bin`;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: key }));
      const part = await s3.send(new UploadPartCommand({ Bucket: target.bucketName, Key: key, UploadId, PartNumber: 1, Body: Buffer.from("go") }));
      await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: target.bucketName, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      );
      expect((await emu.readObject(key)).toString()).toBe("go");
      s3.destroy();
    });

    test("a wrong secret, a key outside the stage and an expired token are refused as S3 refuses them", async () => {
      const bad = s3For(target, { secret: "wrong-secret" });
      await expect(bad.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${target.stagePrefix}x`, Body: "x" }))).rejects.toMatchObject({
        name: "SignatureDoesNotMatch",
      });
      bad.destroy();
      const s3 = s3For(target);
      await expect(s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: "stages/p/other/x", Body: "x" }))).rejects.toMatchObject({
        name: "AccessDenied",
      });
      s3.destroy();

      const shortLived = await startEmulator({ credentialTtlSeconds: 1 });
      const c = new StageClient({ endpoint: shortLived.url, apiKey: shortLived.apiKey });
      await c.createStage({ projectId: "p", regionId: "r", stageName: "brief" });
      const t = await c.applyUploadTarget({ stageName: "brief", path: "" });
      await c.close();
      await new Promise((r) => setTimeout(r, 1200));
      const late = s3For(t);
      const err = await late.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.stagePrefix}x`, Body: "x" })).catch((e) => e);
      expect(err).toMatchObject({ name: "ExpiredToken", $metadata: { httpStatusCode: 400 } });
      late.destroy();
      await shortLived.stop();
    });

    test("restart keeps stages, objects and issued credentials; deleting a stage deletes its objects", async () => {
      const s3 = s3For(target);
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${target.stagePrefix}keep.json`, Body: "kept" }));
      s3.destroy();
      await client.close();
      await emu.stop();

      emu = await startEmulator({ dataDir, apiKey: "emulator-test-key" });
      client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
      expect(emu.listStageNames()).toEqual(["objs"]);
      expect((await emu.readObject(`${target.stagePrefix}keep.json`)).toString()).toBe("kept");
      // The old credential still works on the new port.
      const again = s3For({ ...target, endpoint: emu.url });
      await again.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${target.stagePrefix}after.json`, Body: "after" }));
      again.destroy();

      await client.deleteStage("objs");
      expect(emu.listObjects()).toEqual([]);
    });
  });

  test("fault injection over the admin API requires the key", async () => {
    const add = (key: string) =>
      fetch(`${emu.url}/__emulator/faults`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ target: "list", count: 1, status: 503, retryAfterSeconds: 2 }),
      });
    expect((await add("wrong")).status).toBe(401);
    expect((await add(emu.apiKey)).status).toBe(200);
    const res = await fetch(`${emu.url}/v2/stages?projectId=p`, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    const ok = await fetch(`${emu.url}/v2/stages?projectId=p`, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
    expect(ok.status).toBe(200);
  });

  test("the CLI prints where it listens and stops cleanly on SIGTERM", async () => {
    const { url, child, exited } = await startEmulatorCli(["--port", "0", "--data-dir", dataDir + "-cli", "--api-key", "cli-key"]);
    const res = await fetch(`${url}/v2/stages?projectId=p`, { headers: { Authorization: "Bearer cli-key" } });
    expect(res.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await rmTmp(dataDir + "-cli");
  });

  test("the CLI refuses bad flags with usage and exit code 2", async () => {
    const err = await run(process.execPath, [EMULATOR_CLI, "--port", "eighty"]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/usage: zilliz-stage-emulator/);
  });
});
