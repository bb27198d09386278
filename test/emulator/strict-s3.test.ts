// The object endpoint refuses what S3 refuses, each with S3's code, asked
// with AWS's own S3 client (and raw signed requests where the SDK cannot be
// made to send the mistake). Each test fails if its rule is taken out.
import { createHash, randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { startEmulator, Emulator } from "../../provider/emulator";
import { NodeSha256 } from "../../provider/sha256";
import { crc32Base64 } from "../../provider/upload/put";
import { credentialsOf, s3For, volumeTarget, type VolumeTarget } from "../helpers/volume-target";

/** A PUT signed by hand, so that the scope, the date and the signed headers can be what the test needs. */
async function signedPut(t: VolumeTarget, key: string, opts: { service?: string; signHost?: boolean }): Promise<Response> {
  const url = new URL(`${t.endpoint}/${t.bucketName}/${key}`);
  const signer = new SignatureV4({
    service: opts.service ?? "s3",
    region: t.region,
    sha256: NodeSha256,
    uriEscapePath: false,
    credentials: credentialsOf(t),
  });
  const headers: Record<string, string> = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
  if (opts.signHost !== false) headers.host = url.host;
  const signed = await signer.sign({ method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body: "x" });
  const sent = { ...signed.headers } as Record<string, string>;
  delete sent.host;
  return fetch(url, { method: "PUT", headers: sent, body: "x" });
}

/** A PUT of `data` framed aws-chunked, its CRC32 in a trailer, as the SDKs stream bodies. */
async function chunkedPut(t: VolumeTarget, key: string, data: Buffer, crc32: string, cut = false, extra: Record<string, string> = {}): Promise<Response> {
  const url = new URL(`${t.endpoint}/${t.bucketName}/${key}`);
  const signer = new SignatureV4({
    service: "s3",
    region: t.region,
    sha256: NodeSha256,
    uriEscapePath: false,
    credentials: credentialsOf(t),
  });
  // `cut`: the body ends after the data, before the last chunk and the trailer.
  const end = cut ? "\r\n" : `\r\n0\r\nx-amz-checksum-crc32:${crc32}\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from(end)]);
  const headers: Record<string, string> = {
    host: url.host,
    "content-encoding": "aws-chunked",
    "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "x-amz-decoded-content-length": String(data.length),
    "x-amz-trailer": "x-amz-checksum-crc32",
    ...extra,
  };
  const signed = await signer.sign({ method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers });
  const sent = { ...signed.headers } as Record<string, string>;
  delete sent.host;
  return fetch(url, { method: "PUT", headers: sent, body });
}

const codeOf = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

describe("object endpoint, strict as S3", () => {
  let emu: Emulator;
  let t: VolumeTarget;
  let s3: S3Client;
  beforeEach(async () => {
    emu = await startEmulator();
    t = await volumeTarget(emu, "mine", { projectId: "proj-1" });
    s3 = s3For(t);
  });
  afterEach(async () => {
    s3.destroy();
    await emu.stop();
  });

  test("one volume's keys cannot abort another volume's multipart upload (NoSuchUpload), its own can", async () => {
    const other = await volumeTarget(emu, "theirs", { projectId: "proj-1" });
    const theirs = s3For(other);
    const key = `${other.volumePrefix}big.bin`;
    const { UploadId } = await theirs.send(new CreateMultipartUploadCommand({ Bucket: other.bucketName, Key: key }));
    // The attacker names its own prefix (so the prefix check passes) with the victim's upload id.
    const err = await s3.send(new AbortMultipartUploadCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}big.bin`, UploadId })).catch((e) => e);
    expect(err).toMatchObject({ name: "NoSuchUpload", $metadata: { httpStatusCode: 404 } });
    expect(emu.listObjects()).toEqual([]);
    await theirs.send(new AbortMultipartUploadCommand({ Bucket: other.bucketName, Key: key, UploadId }));
    theirs.destroy();
  });

  test("a request signed more than 15 minutes away from now is RequestTimeTooSkewed (403); 10 minutes is fine", async () => {
    const key = `${t.volumePrefix}a`;
    for (const offset of [-3 * 24 * 3600_000, 16 * 60_000]) {
      const skewed = s3For(t, { systemClockOffset: offset });
      const err = await skewed.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "x" })).catch((e) => e);
      skewed.destroy();
      expect(err).toMatchObject({ name: "RequestTimeTooSkewed", $metadata: { httpStatusCode: 403 } });
    }
    const near = s3For(t, { systemClockOffset: -10 * 60_000 });
    await near.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "x" }));
    near.destroy();
    expect(emu.listObjects().map((o) => o.key)).toEqual([key]);
  });

  test("a scope with another region or service is AuthorizationHeaderMalformed (400)", async () => {
    const wrongRegion = s3For(t, { region: "us-east-1" });
    const err = await wrongRegion.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}a`, Body: "x" })).catch((e) => e);
    wrongRegion.destroy();
    expect(err).toMatchObject({ name: "AuthorizationHeaderMalformed", $metadata: { httpStatusCode: 400 } });
    expect(err.message).toMatch(/region 'us-east-1' is wrong; expecting 'us-west-2'/);

    const wrongService = await signedPut(t, `${t.volumePrefix}a`, { service: "execute-api" });
    expect(wrongService.status).toBe(400);
    expect(codeOf(await wrongService.text())).toBe("AuthorizationHeaderMalformed");
    // The same request signed for s3 passes: the refusal was the service alone.
    expect((await signedPut(t, `${t.volumePrefix}a`, {})).status).toBe(200);
  });

  test("host left out of SignedHeaders is refused", async () => {
    const res = await signedPut(t, `${t.volumePrefix}a`, { signHost: false });
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(codeOf(body)).toBe("AccessDenied");
    expect(body).toContain("<HeadersNotSigned>host</HeadersNotSigned>");
    expect(emu.listObjects()).toEqual([]);
  });

  test("a non-final part under 5 MiB is EntityTooSmall at complete; a small last part is fine", async () => {
    const key = `${t.volumePrefix}parts.bin`;
    const upload = async (sizes: number[]) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: t.bucketName, Key: key }));
      const parts = [];
      for (const [i, size] of sizes.entries()) {
        const { ETag } = await s3.send(new UploadPartCommand({ Bucket: t.bucketName, Key: key, UploadId, PartNumber: i + 1, Body: randomBytes(size) }));
        parts.push({ ETag, PartNumber: i + 1 });
      }
      return s3.send(new CompleteMultipartUploadCommand({ Bucket: t.bucketName, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    };
    const err = await upload([1, 1]).catch((e) => e);
    expect(err).toMatchObject({ name: "EntityTooSmall", $metadata: { httpStatusCode: 400 } });
    expect(emu.listObjects()).toEqual([]);
    await upload([5 * 1024 * 1024, 1]);
    expect(emu.listObjects().map((o) => o.size)).toEqual([5 * 1024 * 1024 + 1]);
  });

  test("a body whose CRC32 does not match is BadDigest, in a header or an aws-chunked trailer, and nothing is stored", async () => {
    const body = Buffer.from("the bytes the client meant");
    const right = crc32Base64(body);
    const wrong = crc32Base64(Buffer.from("other bytes"));
    const put = (Key: string, ChecksumCRC32: string) => s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key, Body: body, ChecksumCRC32 }));
    expect(await put(`${t.volumePrefix}bad`, wrong).catch((e) => e)).toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
    const trailed = await chunkedPut(t, `${t.volumePrefix}bad-trailer`, body, wrong);
    expect([trailed.status, codeOf(await trailed.text())]).toEqual([400, "BadDigest"]);
    expect(emu.listObjects()).toEqual([]);

    // Cut before its last chunk (and so before the checksum): incomplete, not stored.
    const cut = await chunkedPut(t, `${t.volumePrefix}cut`, body, right, true);
    expect([cut.status, codeOf(await cut.text())]).toEqual([400, "IncompleteBody"]);
    expect(emu.listObjects()).toEqual([]);

    // A SHA-256 checked as the CRC32 is; a value that is no checksum at all is refused as invalid.
    const sha = (Key: string, ChecksumSHA256: string) => s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key, Body: body, ChecksumSHA256 }));
    expect(await sha(`${t.volumePrefix}bad-sha`, createHash("sha256").update("other").digest("base64")).catch((e) => e)).toMatchObject({
      name: "BadDigest",
      message: "The SHA256 you specified did not match the calculated checksum.",
    });
    expect(await put(`${t.volumePrefix}junk`, "not a checksum").catch((e) => e)).toMatchObject({
      name: "InvalidRequest",
      message: "Value for x-amz-checksum-crc32 header is invalid.",
    });
    // A decoded length that is not the body's, and two checksums for one body: refused.
    const short = await chunkedPut(t, `${t.volumePrefix}short`, body, right, false, { "x-amz-decoded-content-length": String(body.length + 1) });
    expect([short.status, codeOf(await short.text())]).toEqual([400, "IncompleteBody"]);
    const two = await chunkedPut(t, `${t.volumePrefix}two`, body, right, false, { "x-amz-checksum-sha256": createHash("sha256").update(body).digest("base64") });
    expect([two.status, codeOf(await two.text())]).toEqual([400, "InvalidRequest"]);
    expect(emu.listObjects()).toEqual([]);

    await put(`${t.volumePrefix}good`, right);
    await sha(`${t.volumePrefix}good-sha`, createHash("sha256").update(body).digest("base64"));
    expect((await chunkedPut(t, `${t.volumePrefix}good-trailer`, body, right)).status).toBe(200);
    for (const key of ["good", "good-sha", "good-trailer"]) expect((await emu.readObject(`${t.volumePrefix}${key}`)).equals(body)).toBe(true);
  });

  test("an upload that declared CRC32 wants it on every part (InvalidRequest) and in the completion, matching (InvalidPart)", async () => {
    const Key = `${t.volumePrefix}declared.bin`;
    const Bucket = t.bucketName;
    const body = randomBytes(1024);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: "CRC32" }));
    const bare = s3For(t, { requestChecksumCalculation: "WHEN_REQUIRED" });
    const unchecked = await bare.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body })).catch((e) => e);
    bare.destroy();
    expect(unchecked).toMatchObject({ name: "InvalidRequest", message: expect.stringMatching(/expected checksum Type: crc32, actual checksum Type: null/) });

    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body, ChecksumCRC32: crc32Base64(body) }));
    const complete = (Parts: { PartNumber: number; ETag?: string; ChecksumCRC32?: string }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    expect(await complete([{ PartNumber: 1, ETag: part.ETag }]).catch((e) => e)).toMatchObject({
      name: "InvalidRequest",
      message: expect.stringMatching(/must include the checksum for each part. It was missing for part 1/),
    });
    const other = crc32Base64(Buffer.from("x"));
    expect(await complete([{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: other }]).catch((e) => e)).toMatchObject({ name: "InvalidPart" });
    expect(emu.listObjects()).toEqual([]);
    await complete([{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }]);
    expect((await emu.readObject(Key)).equals(body)).toBe(true);
  });

  test("max-keys=0 answers no keys; pages of 2 follow continuation tokens to every key, common prefixes once", async () => {
    const keys = ["a", "b", "d/1", "d/2", "d/3", "e", "f"].map((k) => t.volumePrefix + k);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key, Body: "x" }));
    const none = await s3.send(new ListObjectsV2Command({ Bucket: t.bucketName, Prefix: t.volumePrefix, MaxKeys: 0 }));
    expect(none).toMatchObject({ KeyCount: 0, MaxKeys: 0, IsTruncated: false });
    expect(none.Contents ?? []).toEqual([]);

    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: t.bucketName, Prefix: t.volumePrefix, Delimiter: "/", MaxKeys: 2, ContinuationToken }));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!));
      ContinuationToken = page.NextContinuationToken;
      pages++;
    } while (ContinuationToken);
    expect(seen.sort()).toEqual(["a", "b", "d/", "e", "f"].map((k) => t.volumePrefix + k));
    expect(pages).toBe(3);
  });

  test("deleting while paging, rewriting and re-creating keys: each page shows the live keys once, in order, with their current size", async () => {
    const put = (k: string, body: string) => s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: t.volumePrefix + k, Body: body }));
    const list = async (MaxKeys: number, ContinuationToken?: string) =>
      s3.send(new ListObjectsV2Command({ Bucket: t.bucketName, Prefix: t.volumePrefix, MaxKeys, ContinuationToken }));
    for (const k of ["a", "b", "c", "d", "e"]) await put(k, "x");
    const first = await list(2);
    // A destroy deletes the page it was given while it asks for the next.
    await s3.send(new DeleteObjectsCommand({ Bucket: t.bucketName, Delete: { Objects: [{ Key: t.volumePrefix + "a" }, { Key: t.volumePrefix + "b" }] } }));
    await put("d", "longer");
    const second = await list(2, first.NextContinuationToken);
    expect((second.Contents ?? []).map((c) => [c.Key!.slice(t.volumePrefix.length), c.Size])).toEqual([
      ["c", 1],
      ["d", 6],
    ]);
    await put("a", "back");
    await put("bb", "new");
    await s3.send(new DeleteObjectsCommand({ Bucket: t.bucketName, Delete: { Objects: [{ Key: t.volumePrefix + "c" }] } }));
    const all = await list(100);
    expect((all.Contents ?? []).map((c) => c.Key!.slice(t.volumePrefix.length))).toEqual(["a", "bb", "d", "e"]);
  });

  test("keys with control characters survive the listing: escaped in XML, or URL-encoded with encoding-type=url", async () => {
    const odd = `${t.volumePrefix}ctl\u0001\u001f\r\nend & <x>`;
    await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: odd, Body: "x" }));
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: t.bucketName, Prefix: t.volumePrefix }));
    expect(plain.Contents?.map((c) => c.Key)).toEqual([odd]);
    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: t.bucketName, Prefix: t.volumePrefix, EncodingType: "url" }));
    expect(encoded.EncodingType).toBe("url");
    expect(encoded.Contents?.map((c) => decodeURIComponent(c.Key!.replace(/\+/g, " ")))).toEqual([odd]);
    // Form encoding, as S3 writes it: a space is "+".
    expect(encoded.Contents?.[0].Key).toContain("end+%26+%3Cx%3E");
    expect(encoded.Contents?.[0].Key).toContain("%01%1F%0D%0A");
  });

  test("a malformed %-escape in the path is 400 InvalidURI, not a 500 that clients retry", async () => {
    const res = await fetch(`${t.endpoint}/${t.bucketName}/${t.volumePrefix}bad%zz`, { method: "GET" });
    expect(res.status).toBe(400);
    expect(codeOf(await res.text())).toBe("InvalidURI");
  });

  test("x-amz-copy-source must be URL-encoded, as S3 decodes it: raw '+' is a space, raw non-ASCII and bad escapes are InvalidArgument", async () => {
    const key = `${t.volumePrefix}ü é+(1).json`;
    await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "x" }));
    await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}a b.json`, Body: "space" }));
    const copy = (CopySource: string, to = `${t.volumePrefix}copy.json`) =>
      s3.send(new CopyObjectCommand({ Bucket: t.bucketName, Key: to, CopySource, MetadataDirective: "REPLACE", Metadata: { m: "1" } })).catch((e: unknown) => e);
    const encoded = `${t.bucketName}/${key.split("/").map(encodeURIComponent).join("/")}`;
    expect(await copy(encoded)).toMatchObject({ CopyObjectResult: { ETag: expect.any(String) } });
    expect((await s3.send(new HeadObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}copy.json` }))).Metadata).toEqual({ m: "1" });
    // Unencoded: each character below 0x100 leaves Node as one Latin-1 byte, which is not UTF-8.
    expect(await copy(`${t.bucketName}/${key}`)).toMatchObject({ name: "InvalidArgument", message: "Invalid copy source encoding", $metadata: { httpStatusCode: 400 } });
    // A raw "+" is a space to S3 (aws-sdk-js#1821): "a+b.json" names "a b.json".
    expect(await copy(`${t.bucketName}/${t.volumePrefix}a+b.json`, `${t.volumePrefix}from-plus.json`)).toMatchObject({ CopyObjectResult: expect.anything() });
    expect((await emu.readObject(`${t.volumePrefix}from-plus.json`)).toString()).toBe("space");
    expect(await copy(`${t.bucketName}/${t.volumePrefix}%zz.json`)).toMatchObject({ name: "InvalidArgument", $metadata: { httpStatusCode: 400 } });
    // Escapes that decode to bytes that are not UTF-8.
    expect(await copy(`${t.bucketName}/${t.volumePrefix}%FC.json`)).toMatchObject({ name: "InvalidArgument", $metadata: { httpStatusCode: 400 } });
    // A leading slash is allowed; a copy source without a key is not.
    expect(await copy(`/${encoded}`, `${t.volumePrefix}slash.json`)).toMatchObject({ CopyObjectResult: expect.anything() });
    expect(await copy(t.bucketName)).toMatchObject({ name: "InvalidArgument", $metadata: { httpStatusCode: 400 } });
  });

  test("SignatureDoesNotMatch carries AWSAccessKeyId, StringToSign and CanonicalRequest, as S3's does", async () => {
    const wrong = s3For(t, { credentials: { ...credentialsOf(t), secretAccessKey: "not-the-secret" } });
    const err = await wrong.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}a`, Body: "x" })).catch((e) => e);
    wrong.destroy();
    expect(err).toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 }, AWSAccessKeyId: t.credentials.tmpAK });
    expect(err.StringToSign).toMatch(/^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-west-2\/s3\/aws4_request\n[0-9a-f]{64}$/);
    expect(err.CanonicalRequest).toMatch(/^PUT\n\/zilliz-stages\/volumes\/proj-1\/mine\/a\n/);
  });
});
