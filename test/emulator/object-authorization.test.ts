// Who may do what on the emulator's object endpoint: a volume's temporary
// credentials reach that volume's objects and nothing else, and only with
// their own session token and a signature over the request as sent. Every
// refusal is checked by its S3 code and by what the store still holds.
import { SignatureV4 } from "@smithy/signature-v4";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
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
import { API_ERROR_CODES } from "../../provider/client/api-codes";
import { NodeSha256 } from "../../provider/sha256";
import { credentialsOf, postJson, s3For, volumeTarget, type VolumeTarget } from "../helpers/volume-target";

type Creds = ReturnType<typeof credentialsOf>;

describe("object endpoint authorization", () => {
  let emu: Emulator;
  let a: VolumeTarget;
  let b: VolumeTarget;
  const clients: S3Client[] = [];
  const s3 = (credentials: Creds, t: VolumeTarget = a) => {
    const c = s3For(t, { credentials });
    clients.push(c);
    return c;
  };
  const keys = () => emu.listObjects().map((o) => o.key).sort();
  /** The S3 error a call ends with, as `{ name, status, message }`; fails the test when the call succeeds. */
  async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
    const err = (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
    if (!err) throw new Error("the request was accepted");
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  // S3's own words: clients and people read the message, not only the code.
  const denied = { name: "AccessDenied", status: 403, message: "Access Denied" };
  const badToken = { name: "InvalidToken", status: 403, message: "The provided token is malformed or otherwise invalid." };

  beforeEach(async () => {
    emu = await startEmulator();
    a = await volumeTarget(emu, "vol_a");
    b = await volumeTarget(emu, "vol_b");
    expect(a.volumePrefix).not.toBe(b.volumePrefix);
    await s3(credentialsOf(a)).send(new PutObjectCommand({ Bucket: a.bucketName, Key: `${a.volumePrefix}a.json`, Body: "a" }));
    await s3(credentialsOf(b), b).send(new PutObjectCommand({ Bucket: b.bucketName, Key: `${b.volumePrefix}b.json`, Body: "b" }));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await emu.stop();
  });

  describe("volume A's credentials and volume B", () => {
    test("list B's objects, or the whole bucket: AccessDenied; A's own listing holds only A's objects", async () => {
      const asA = s3(credentialsOf(a));
      expect(await refusal(asA.send(new ListObjectsV2Command({ Bucket: a.bucketName, Prefix: b.volumePrefix })))).toEqual(denied);
      expect(await refusal(asA.send(new ListObjectsV2Command({ Bucket: a.bucketName })))).toEqual(denied);
      expect(await refusal(asA.send(new ListMultipartUploadsCommand({ Bucket: a.bucketName, Prefix: b.volumePrefix })))).toEqual(denied);
      const own = await asA.send(new ListObjectsV2Command({ Bucket: a.bucketName, Prefix: a.volumePrefix }));
      expect((own.Contents ?? []).map((o) => o.Key)).toEqual([`${a.volumePrefix}a.json`]);
    });

    test("delete B's object: AccessDenied, and it is still there", async () => {
      const asA = s3(credentialsOf(a));
      expect(await refusal(asA.send(new DeleteObjectCommand({ Bucket: a.bucketName, Key: `${b.volumePrefix}b.json` })))).toEqual(denied);
      expect(keys()).toEqual([`${a.volumePrefix}a.json`, `${b.volumePrefix}b.json`]);
    });

    test("a batch delete naming A's and B's objects removes A's only and reports B's as AccessDenied", async () => {
      const res = await s3(credentialsOf(a)).send(
        new DeleteObjectsCommand({ Bucket: a.bucketName, Delete: { Objects: [{ Key: `${a.volumePrefix}a.json` }, { Key: `${b.volumePrefix}b.json` }] } }),
      );
      expect((res.Deleted ?? []).map((d) => d.Key)).toEqual([`${a.volumePrefix}a.json`]);
      expect(res.Errors).toEqual([{ Key: `${b.volumePrefix}b.json`, Code: "AccessDenied", Message: "Access Denied" }]);
      expect(keys()).toEqual([`${b.volumePrefix}b.json`]);
    });

    test("read, overwrite, copy out of, or upload into B: AccessDenied, B's object unchanged", async () => {
      const asA = s3(credentialsOf(a));
      const bKey = `${b.volumePrefix}b.json`;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["get", () => asA.send(new GetObjectCommand({ Bucket: a.bucketName, Key: bKey }))],
        ["head", () => asA.send(new HeadObjectCommand({ Bucket: a.bucketName, Key: bKey }))],
        ["put", () => asA.send(new PutObjectCommand({ Bucket: a.bucketName, Key: bKey, Body: "overwritten" }))],
        ["copy B into A", () => asA.send(new CopyObjectCommand({ Bucket: a.bucketName, Key: `${a.volumePrefix}stolen.json`, CopySource: `${a.bucketName}/${bKey}` }))],
        ["initiate", () => asA.send(new CreateMultipartUploadCommand({ Bucket: a.bucketName, Key: `${b.volumePrefix}big.bin` }))],
      ];
      // A HEAD answer has no body, so the SDK can only name its status.
      for (const [what, call] of calls) {
        expect([what, await refusal(call())]).toEqual([what, what === "head" ? { name: "Unknown", status: 403, message: "UnknownError" } : denied]);
      }
      expect(keys()).toEqual([`${a.volumePrefix}a.json`, bKey]);
      expect((await emu.readObject(bKey)).toString()).toBe("b");
    });

    test("B's multipart upload: A can neither add a part, complete nor abort it", async () => {
      const asB = s3(credentialsOf(b), b);
      const key = `${b.volumePrefix}big.bin`;
      const { UploadId } = await asB.send(new CreateMultipartUploadCommand({ Bucket: b.bucketName, Key: key }));
      const part = await asB.send(new UploadPartCommand({ Bucket: b.bucketName, Key: key, UploadId, PartNumber: 1, Body: "part" }));
      const asA = s3(credentialsOf(a));
      expect(await refusal(asA.send(new UploadPartCommand({ Bucket: a.bucketName, Key: key, UploadId, PartNumber: 2, Body: "x" })))).toEqual(denied);
      expect(
        await refusal(
          asA.send(new CompleteMultipartUploadCommand({ Bucket: a.bucketName, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
        ),
      ).toEqual(denied);
      expect(await refusal(asA.send(new AbortMultipartUploadCommand({ Bucket: a.bucketName, Key: key, UploadId })))).toEqual(denied);
      const pending = await asB.send(new ListMultipartUploadsCommand({ Bucket: b.bucketName, Prefix: b.volumePrefix }));
      expect((pending.Uploads ?? []).map((u) => u.UploadId)).toEqual([UploadId]);
      expect(keys()).not.toContain(key);
    });

    test("a bucket other than the emulator's: NoSuchBucket, whatever the key", async () => {
      expect(await refusal(s3(credentialsOf(a)).send(new GetObjectCommand({ Bucket: "other-bucket", Key: `${a.volumePrefix}a.json` })))).toEqual({
        name: "NoSuchBucket",
        status: 404,
        message: "The specified bucket does not exist",
      });
    });
  });

  describe("the session token", () => {
    const put = (creds: Creds) => s3(creds).send(new PutObjectCommand({ Bucket: a.bucketName, Key: `${a.volumePrefix}t.json`, Body: "t" }));

    test("left out, with the right key and secret: InvalidToken, nothing stored", async () => {
      expect(await refusal(put({ ...credentialsOf(a), sessionToken: undefined }))).toEqual(badToken);
      expect(keys()).not.toContain(`${a.volumePrefix}t.json`);
    });

    test("another one, even another volume's live token: InvalidToken", async () => {
      expect(await refusal(put({ ...credentialsOf(a), sessionToken: "not-the-token" }))).toEqual(badToken);
      expect(await refusal(put({ ...credentialsOf(a), sessionToken: b.credentials.sessionToken }))).toEqual(badToken);
      expect(keys()).not.toContain(`${a.volumePrefix}t.json`);
    });

    test("its own, with a wrong secret: SignatureDoesNotMatch", async () => {
      expect(await refusal(put({ ...credentialsOf(a), secretAccessKey: b.credentials.tmpSK }))).toMatchObject({
        name: "SignatureDoesNotMatch",
        status: 403,
        message: expect.stringMatching(/^The request signature we calculated does not match/),
      });
    });

    test("control: key, secret and token together are accepted", async () => {
      await put(credentialsOf(a));
      expect(keys()).toContain(`${a.volumePrefix}t.json`);
    });
  });

  describe("who is asking", () => {
    const put = (creds: Creds) => s3(creds).send(new PutObjectCommand({ Bucket: a.bucketName, Key: `${a.volumePrefix}w.json`, Body: "w" }));

    test("an unknown access key, or the key of a deleted volume: InvalidAccessKeyId", async () => {
      const unknownKey = { name: "InvalidAccessKeyId", status: 403, message: "The AWS Access Key Id you provided does not exist in our records." };
      expect(await refusal(put({ ...credentialsOf(a), accessKeyId: "AKIANOBODY" }))).toEqual(unknownKey);
      const del = await fetch(`${emu.url}/v2/volumes/vol_b`, { method: "DELETE", headers: { Authorization: `Bearer ${emu.apiKey}` } });
      expect(((await del.json()) as { code: number }).code).toBe(0);
      expect(await refusal(s3(credentialsOf(b), b).send(new GetObjectCommand({ Bucket: b.bucketName, Key: `${b.volumePrefix}b.json` })))).toEqual(unknownKey);
    });

    test("no signature at all: AccessDenied", async () => {
      const res = await fetch(`${a.endpoint}/${a.bucketName}/${a.volumePrefix}w.json`, { method: "PUT", body: "w" });
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/<Code>AccessDenied<\/Code>.*Signature Version 4/s);
      expect(keys()).not.toContain(`${a.volumePrefix}w.json`);
    });

    test("expired credentials: ExpiredToken", async () => {
      const brief = await startEmulator({ credentialTtlSeconds: 1 });
      try {
        const t = await volumeTarget(brief, "brief");
        const c = s3(credentialsOf(t), t);
        await c.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}early.json`, Body: "e" }));
        await new Promise((r) => setTimeout(r, 1200));
        expect(await refusal(c.send(new PutObjectCommand({ Bucket: t.bucketName, Key: `${t.volumePrefix}late.json`, Body: "l" })))).toEqual({
          name: "ExpiredToken",
          status: 400,
          message: "The provided token has expired.",
        });
        expect(brief.listObjects().map((o) => o.key)).toEqual([`${t.volumePrefix}early.json`]);
      } finally {
        await brief.stop();
      }
    });
  });

  describe("the signature covers the request as sent", () => {
    /**
     * A PUT of `key` (with `query`) signed for `signedKey` and `signedQuery`
     * (by default the same), sent after `alter` changed its headers.
     */
    async function signedPut(opts: {
      key: string;
      signedKey?: string;
      query?: Record<string, string | string[]>;
      signedQuery?: Record<string, string | string[]>;
      extra?: Record<string, string>;
      alter?: (headers: Record<string, string>) => void;
    }) {
      const url = new URL(a.endpoint);
      const signer = new SignatureV4({ service: "s3", region: a.region, credentials: credentialsOf(a), sha256: NodeSha256, uriEscapePath: false });
      const signed = await signer.sign({
        method: "PUT",
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: `/${a.bucketName}/${opts.signedKey ?? opts.key}`,
        query: opts.signedQuery ?? opts.query ?? {},
        headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...opts.extra },
      });
      const headers = { ...(signed.headers as Record<string, string>) };
      delete headers.host;
      opts.alter?.(headers);
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query ?? {})) for (const one of [v].flat()) search.append(k, one);
      const qs = search.size ? `?${search.toString()}` : "";
      return fetch(`${a.endpoint}/${a.bucketName}/${opts.key}${qs}`, { method: "PUT", headers, body: "s" });
    }
    const code = async (res: Response) => [res.status, /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1]];
    const withAuthorization = (edit: (value: string) => string) => (h: Record<string, string>) => (h.authorization = edit(h.authorization));

    test("control: a request signed as sent is accepted", async () => {
      expect((await signedPut({ key: `${a.volumePrefix}ok.json` })).status).toBe(200);
      expect(keys()).toContain(`${a.volumePrefix}ok.json`);
    });

    test("signed for one key, sent to another: SignatureDoesNotMatch", async () => {
      expect(await code(await signedPut({ key: `${a.volumePrefix}other.json`, signedKey: `${a.volumePrefix}ok.json` }))).toEqual([403, "SignatureDoesNotMatch"]);
      expect(keys()).not.toContain(`${a.volumePrefix}other.json`);
    });

    test("a query parameter given several times is signed with every value", async () => {
      const query = { tag: ["1", "2", "3"] };
      expect((await signedPut({ key: `${a.volumePrefix}q3.json`, query })).status).toBe(200);
      expect((await signedPut({ key: `${a.volumePrefix}q2.json`, query: { tag: ["1", "2"] } })).status).toBe(200);
      // Dropping or changing one of them breaks the signature.
      expect(await code(await signedPut({ key: `${a.volumePrefix}q.json`, query: { tag: ["1", "2"] }, signedQuery: query }))).toEqual([403, "SignatureDoesNotMatch"]);
      expect(await code(await signedPut({ key: `${a.volumePrefix}q.json`, query: { tag: "3" }, signedQuery: query }))).toEqual([403, "SignatureDoesNotMatch"]);
      expect(keys()).not.toContain(`${a.volumePrefix}q.json`);
    });

    test("keys with spaces and non-ASCII characters are signed as the SDK sends them", async () => {
      const key = `${a.volumePrefix}données/ünï b 🚀.json`;
      await s3(credentialsOf(a)).send(new PutObjectCommand({ Bucket: a.bucketName, Key: key, Body: "u" }));
      expect((await emu.readObject(key)).toString()).toBe("u");
    });

    test("a signed header changed on the way: SignatureDoesNotMatch", async () => {
      const res = await signedPut({ key: `${a.volumePrefix}m.json`, extra: { "x-amz-meta-owner": "a" }, alter: (h) => (h["x-amz-meta-owner"] = "b") });
      expect(await code(res)).toEqual([403, "SignatureDoesNotMatch"]);
    });

    test("a signed header left out: SignatureDoesNotMatch", async () => {
      const res = await signedPut({ key: `${a.volumePrefix}m.json`, extra: { "x-amz-meta-owner": "a" }, alter: (h) => delete h["x-amz-meta-owner"] });
      expect(await code(res)).toEqual([403, "SignatureDoesNotMatch"]);
    });

    test("no x-amz-content-sha256 at all (curl's --aws-sigv4 sends none): 400 InvalidRequest naming the header, nothing stored", async () => {
      const res = await signedPut({ key: `${a.volumePrefix}nohash.json`, alter: (h) => delete h["x-amz-content-sha256"] });
      const body = await res.text();
      expect([res.status, /<Code>([^<]+)<\/Code>/.exec(body)?.[1]]).toEqual([400, "InvalidRequest"]);
      expect(body).toContain("Missing required header for this request: x-amz-content-sha256");
      expect(keys()).not.toContain(`${a.volumePrefix}nohash.json`);
    });

    test("another signing date, or none: SignatureDoesNotMatch", async () => {
      const later = await signedPut({ key: `${a.volumePrefix}d.json`, alter: (h) => (h["x-amz-date"] = h["x-amz-date"].replace(/\d\dZ$/, (s) => `${(Number(s.slice(0, 2)) + 1) % 60}`.padStart(2, "0") + "Z")) });
      expect(await code(later)).toEqual([403, "SignatureDoesNotMatch"]);
      const undated = await signedPut({ key: `${a.volumePrefix}d.json`, alter: (h) => delete h["x-amz-date"] });
      expect((await code(undated))[0]).toBe(403);
      expect(keys()).not.toContain(`${a.volumePrefix}d.json`);
    });

    test("a signing date that is not of the form YYYYMMDDTHHMMSSZ is refused, even for a request signed this very second", async () => {
      // Start early in a second, so a server that fell back to its own clock would sign with the client's date.
      while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20));
      for (const edit of [(d: string) => `x${d}`, (d: string) => `${d}0`, (d: string) => d.replace("T", "")]) {
        const res = await signedPut({ key: `${a.volumePrefix}d.json`, alter: (h) => (h["x-amz-date"] = edit(h["x-amz-date"])) });
        // As S3: "AWS authentication requires a valid Date or x-amz-date header".
        expect(await code(res)).toEqual([403, "AccessDenied"]);
      }
      expect(keys()).not.toContain(`${a.volumePrefix}d.json`);
    });

    test("an Authorization header with anything around the AWS4-HMAC-SHA256 form is no signature: AccessDenied", async () => {
      const edits = [
        (v: string) => v.replace(/Signature=[0-9a-f]{64}/, "Signature=abc"),
        (v: string) => `${v}0`,
        (v: string) => `${v}, Extra=1`,
        (v: string) => `x${v}`,
        (v: string) => v.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
      ];
      for (const edit of edits) expect(await code(await signedPut({ key: `${a.volumePrefix}h.json`, alter: withAuthorization(edit) }))).toEqual([403, "AccessDenied"]);
      expect(keys()).not.toContain(`${a.volumePrefix}h.json`);
    });

    test("the spacing clients differ on (after the scheme, after the commas) is accepted", async () => {
      const edits = [(v: string) => v.replace(/, /g, ","), (v: string) => v.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256  "), (v: string) => v.replace(/, /g, ",  ")];
      for (const [i, edit] of edits.entries()) expect((await signedPut({ key: `${a.volumePrefix}sp${i}.json`, alter: withAuthorization(edit) })).status).toBe(200);
      expect(keys()).toEqual(expect.arrayContaining([0, 1, 2].map((i) => `${a.volumePrefix}sp${i}.json`)));
    });
  });

  describe("Bearer tokens (a volume on Google Cloud)", () => {
    let g: VolumeTarget;
    const put = (authorization: string, name = "g.json") => fetch(`${g.endpoint}/${g.bucketName}/${g.volumePrefix}${name}`, { method: "PUT", headers: { authorization }, body: "g" });
    const code = async (res: Response) => [res.status, /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1]];
    beforeEach(async () => {
      g = await volumeTarget(emu, "vol_g", { regionId: "gcp-us-west1" });
    });

    test("'Bearer <token>' is accepted whatever the case and spacing of the scheme", async () => {
      expect((await put(`Bearer ${g.credentials.sessionToken}`, "1.json")).status).toBe(200);
      expect((await put(`bearer  ${g.credentials.sessionToken}`, "2.json")).status).toBe(200);
      expect(keys()).toEqual(expect.arrayContaining([`${g.volumePrefix}1.json`, `${g.volumePrefix}2.json`]));
    });

    test("the token with anything before or after it is no Bearer token: AccessDenied", async () => {
      expect(await code(await put(`xBearer ${g.credentials.sessionToken}`))).toEqual([403, "AccessDenied"]);
      expect(await code(await put(`Bearer ${g.credentials.sessionToken} extra`))).toEqual([403, "AccessDenied"]);
      expect(keys()).not.toContain(`${g.volumePrefix}g.json`);
    });

    test("an unknown token is 401 with GCS's words; an AWS volume's token is told to sign", async () => {
      const unknown = await put("Bearer nope");
      expect(unknown.status).toBe(401);
      expect(await unknown.text()).toMatch(/<Code>AuthenticationRequired<\/Code><Message>Invalid Credentials<\/Message>/);
      const aws = await put(`Bearer ${a.credentials.sessionToken}`);
      expect(await aws.text()).toMatch(/<Code>InvalidArgument<\/Code><Message>Unsupported Authorization Type: this volume is on AWS; sign requests with SigV4\.<\/Message>/);
    });
  });
});

describe.each(["stages", "volumes"] as const)("apply paths on /v2/%s/apply", (api) => {
  let emu: Emulator;
  const nameField = api === "stages" ? "stageName" : "volumeName";
  beforeAll(async () => {
    emu = await startEmulator();
    expect((await postJson(emu, `/v2/${api}/create`, { projectId: "p", regionId: "aws-us-west-2", [nameField]: "v" })).code).toBe(0);
  });
  afterAll(() => emu.stop());

  // A leading "/" is dropped, as the newest SDK strips it (emulator/control-plane.ts normalizeApplyPath).
  test.each(["../", "../other/", "a/../", "a/../../b/", "a/..", "..", "data", "a//.."])("%j is refused: malformedRequest, no credentials", async (path) => {
    const answer = await postJson(emu, `/v2/${api}/apply`, { [nameField]: "v", path });
    expect(answer.code).toBe(API_ERROR_CODES.malformedRequest);
    expect(answer.message).toMatch(/path must be "" or a directory ending in "\/", with no "\.\." segment/);
    expect(answer.data).toBeUndefined();
  });

  test.each(["", "data/", "a..b/", "a/.../", "..a/b../"])("%j is accepted and is the upload path below the prefix", async (path) => {
    const answer = await postJson(emu, `/v2/${api}/apply`, { [nameField]: "v", path });
    expect(answer.code).toBe(0);
    expect(answer.data.uploadPath).toBe(answer.data.volumePrefix + path);
  });
});
