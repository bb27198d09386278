// The object endpoint as the SDKs use it for each cloud: Bearer tokens on the
// GCS XML API for volumes in gcp-* regions (SigV4 refused there), and byte
// ranges read back exactly with AWS's own S3 client.
import { randomBytes } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startEmulator, Emulator } from "../../provider/emulator";
import { s3For, volumeTarget, type VolumeTarget } from "../helpers/volume-target";

describe("object endpoint", () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.stop());

  describe("a volume in a Google Cloud region", () => {
    let t: VolumeTarget;
    let bearer: Record<string, string>;
    const url = (key: string, query = "") => `${t.endpoint}/${t.bucketName}/${key.split("/").map(encodeURIComponent).join("/")}${query}`;

    beforeEach(async () => {
      t = await volumeTarget(emu, "gcs_volume", { regionId: "gcp-us-west1" });
      bearer = { Authorization: `Bearer ${t.credentials.sessionToken}` };
    });

    test("apply answers cloud gcp with the region's name", () => {
      expect(t).toMatchObject({ cloud: "gcp", region: "us-west1", endpoint: emu.url });
    });

    test("a single PUT with the session token as a Bearer token, as the SDKs send it to GCS", async () => {
      const key = `${t.volumePrefix}data/one.json`;
      const put = await fetch(url(key), { method: "PUT", headers: bearer, body: '{"x":1}' });
      expect(put.status).toBe(200);
      expect(put.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
      expect((await emu.readObject(key)).toString()).toBe('{"x":1}');
      const got = await fetch(url(key), { headers: bearer });
      expect(await got.text()).toBe('{"x":1}');
      // A key outside the volume is refused like any other.
      expect((await fetch(url("volumes/p/other/x"), { method: "PUT", headers: bearer, body: "x" })).status).toBe(403);
    });

    test("multipart through the XML API (POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId)", async () => {
      const key = `${t.volumePrefix}big.bin`;
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
      const initiated = await (await fetch(url(key, "?uploads"), { method: "POST", headers: bearer })).text();
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(initiated)![1];
      const etags: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        const res = await fetch(url(key, `?partNumber=${i + 1}&uploadId=${uploadId}`), { method: "PUT", headers: bearer, body: parts[i] });
        expect(res.status).toBe(200);
        etags.push(res.headers.get("etag")!);
      }
      const manifest = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
      const done = await fetch(url(key, `?uploadId=${uploadId}`), { method: "POST", headers: bearer, body: manifest });
      expect(done.status).toBe(200);
      expect(await done.text()).toMatch(/<ETag>&quot;[0-9a-f]{32}-2&quot;<\/ETag>/);
      expect((await emu.readObject(key)).equals(Buffer.concat(parts))).toBe(true);
    });

    test("SigV4 with the same temporary keys is refused, as GCS refuses it", async () => {
      const s3 = s3For(t);
      const err = await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}x`, Body: "x" })).catch((e) => e);
      s3.destroy();
      expect(err).toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      expect(err.message).toMatch(/Bearer/);
      expect(emu.listObjects()).toEqual([]);
    });

    test("an unknown or expired Bearer token is 401", async () => {
      expect((await fetch(url(`${t.volumePrefix}x`), { method: "PUT", headers: { Authorization: "Bearer nope" }, body: "x" })).status).toBe(401);
      const brief = await startEmulator({ credentialTtlSeconds: 1 });
      const bt = await volumeTarget(brief, "brief", { regionId: "gcp-europe-west3" });
      await new Promise((r) => setTimeout(r, 1200));
      const late = await fetch(`${bt.endpoint}/${bt.bucketName}/${bt.volumePrefix}x`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${bt.credentials.sessionToken}` },
        body: "x",
      });
      expect(late.status).toBe(401);
      expect(await late.text()).toMatch(/expired/);
      await brief.stop();
    });
  });

  test("a volume on AWS refuses Bearer tokens: it must sign", async () => {
    const t = await volumeTarget(emu, "aws_volume", { regionId: "aws-us-west-2" });
    expect(t.cloud).toBe("aws");
    const res = await fetch(`${t.endpoint}/${t.bucketName}/${t.volumePrefix}x`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${t.credentials.sessionToken}` },
      body: "x",
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Unsupported Authorization Type/);
  });

  describe("Range GETs", () => {
    let t: VolumeTarget;
    let s3: S3Client;
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const key = () => `${t.volumePrefix}ranged.bin`;
    const get = (Range?: string) => s3.send(new GetObjectCommand({ Bucket: t.bucketName, Key: key(), Range }));

    beforeEach(async () => {
      t = await volumeTarget(emu, "ranged", { regionId: "aws-us-west-2" });
      s3 = s3For(t);
      await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key(), Body: body }));
    });
    afterEach(() => s3.destroy());

    test.each([
      ["bytes=1048576-2097151", 1048576, 2097151],
      ["bytes=0-0", 0, 0],
      ["bytes=3145700-", 3145700, body.length - 1],
      ["bytes=-100", body.length - 100, body.length - 1],
      ["bytes=3145000-99999999", 3145000, body.length - 1],
      ["bytes=-99999999", 0, body.length - 1],
    ])("%s gives exactly those bytes with 206 and Content-Range", async (range, start, end) => {
      const res = await get(range);
      expect(res.$metadata.httpStatusCode).toBe(206);
      expect(res.ContentRange).toBe(`bytes ${start}-${end}/${body.length}`);
      expect(res.ContentLength).toBe(end - start + 1);
      const got = Buffer.from(await res.Body!.transformToByteArray());
      expect(got.equals(body.subarray(start, end + 1))).toBe(true);
    });

    test("a range past the end is 416 InvalidRange", async () => {
      const err = await get(`bytes=${body.length}-`).catch((e) => e);
      expect(err).toMatchObject({ name: "InvalidRange", $metadata: { httpStatusCode: 416 } });
    });

    test("no range, or one S3 does not serve (several ranges), gives the whole object", async () => {
      for (const range of [undefined, "bytes=0-1,5-6"]) {
        const res = await get(range);
        expect(res.$metadata.httpStatusCode).toBe(200);
        expect(Buffer.from(await res.Body!.transformToByteArray()).equals(body)).toBe(true);
      }
    });
  });
});
