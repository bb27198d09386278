// What the object endpoint computes of a body is what its checks need, and
// no check is skipped for it: an unsigned part is still refused when its
// CRC32 does not match. A copy shares the content it copies, which stays
// the copy's when the original is rewritten or removed.
import { randomBytes } from "node:crypto";
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { Emulator, startEmulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import { NodeSha256 } from "../../provider/sha256";
import { crc32Base64 } from "../../provider/upload/put";

describe("the object endpoint's digests", () => {
  let emu: Emulator;
  let t: Awaited<ReturnType<StageClient["applyUploadTarget"]>>;
  let s3: S3Client;

  beforeAll(async () => {
    emu = await startEmulator({});
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "local", stageName: "d" });
    t = await client.applyUploadTarget({ stageName: "d", path: "" });
    await client.close();
    const c = t.credentials;
    s3 = new S3Client({ endpoint: t.endpoint, region: t.region, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken } });
  });
  afterAll(async () => {
    s3?.destroy();
    await emu?.stop();
  });

  /** One part sent as the engine sends parts: unsigned, its CRC32 in a header. */
  async function unsignedPart(key: string, uploadId: string, body: Buffer, crc32: string): Promise<Response> {
    const url = new URL(`${t.endpoint}/${t.bucketName}/${key}`);
    const query = { partNumber: "1", uploadId };
    const c = t.credentials;
    const signer = new SignatureV4({ service: "s3", region: t.region, sha256: NodeSha256, uriEscapePath: false, credentials: { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken } });
    const headers = { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-checksum-crc32": crc32 };
    const signed = await signer.sign({ method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers });
    const sent: Record<string, string> = { ...signed.headers };
    delete sent.host;
    return fetch(`${url.href}?partNumber=1&uploadId=${uploadId}`, { method: "PUT", headers: sent, body });
  }

  test("an unsigned part whose CRC32 does not match is BadDigest; with its own it completes", async () => {
    const Key = `${t.stagePrefix}part.bin`;
    const body = randomBytes(64 * 1024);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucketName, Key, ChecksumAlgorithm: "CRC32" }));
    const bad = await unsignedPart(Key, UploadId!, body, crc32Base64(Buffer.from("other bytes")));
    expect([bad.status, /<Code>(\w+)<\/Code>/.exec(await bad.text())?.[1]]).toEqual([400, "BadDigest"]);
    const good = await unsignedPart(Key, UploadId!, body, crc32Base64(body));
    expect(good.status).toBe(200);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: t.bucketName, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: good.headers.get("etag")!, ChecksumCRC32: crc32Base64(body) }] } }),
    );
    expect((await emu.readObject(Key)).equals(body)).toBe(true);
  });

  test("a copy keeps its bytes when the original is rewritten or removed; a copy onto itself keeps them with the new metadata", async () => {
    const Bucket = t.bucketName;
    const from = `${t.stagePrefix}orig.bin`;
    const to = `${t.stagePrefix}copy.bin`;
    const first = randomBytes(10_000);
    await s3.send(new PutObjectCommand({ Bucket, Key: from, Body: first }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: to, CopySource: `${Bucket}/${from}` }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: from, CopySource: `${Bucket}/${from}`, MetadataDirective: "REPLACE", Metadata: { k: "v" } }));
    expect((await emu.readObject(from)).equals(first)).toBe(true);
    await s3.send(new PutObjectCommand({ Bucket, Key: from, Body: randomBytes(10_000) }));
    expect((await emu.readObject(to)).equals(first)).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: from }));
    expect((await emu.readObject(to)).equals(first)).toBe(true);
  });
});
