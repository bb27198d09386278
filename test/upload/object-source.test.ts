// The object source on its own: which sources parse and how the refusals
// read, how the store's failures are told to the user, and how a read of an
// object survives a connection that breaks mid-object. Against gofakes3 (a
// third-party S3 server) through the recording proxy, which can refuse a
// request or break an answer off.
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ZillizFileChangedError, ZillizStoreError, ZillizTransportError, ZillizValidationError } from "../../provider/errors";
import { GlobFilter } from "../../provider/upload/glob-filter";
import type { FileIdentity } from "../../provider/upload/local-file";
import { hashObject, isObjectSource, ObjectSourceClient, objectPlannedSource, parseObjectSource } from "../../provider/upload/object-source";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy";
import { sigV4Gate } from "../helpers/signing-gate";
import { withSourceEnv } from "../helpers/source-env";

const { startGofakes3 } = require("../../scripts/gofakes3") as { startGofakes3: (bucket: string) => Promise<{ url: string; stop: () => Promise<void> }> };

const MiB = 1024 * 1024;

describe("which sources are object sources, and how a bad one is refused", () => {
  test.each([
    ["s3://bucket/", { scheme: "s3", bucket: "bucket", prefix: "" }],
    ["s3://bucket", { scheme: "s3", bucket: "bucket", prefix: "" }],
    ["S3://my.bucket-1/data/2026/", { scheme: "s3", bucket: "my.bucket-1", prefix: "data/2026/" }],
    ["gs://gcs_bucket/x/", { scheme: "gs", bucket: "gcs_bucket", prefix: "x/" }],
  ])("%s parses", (source, want) => {
    expect(isObjectSource(source)).toBe(true);
    expect(parseObjectSource(source)).toEqual(want);
  });

  test.each([
    ["./data", false],
    ["/abs/s3://x/", false],
    ["http://bucket/", false],
    ["s3:/bucket/", false],
  ])("%s is a local path", (source, object) => {
    expect(isObjectSource(source)).toBe(object);
    expect(() => parseObjectSource(source)).toThrow(new RegExp(`${source.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not an s3:// or gs:// URL`));
  });

  test.each([
    ["s3://Bucket/", /"Bucket" in s3:\/\/Bucket\/ is not a bucket name; give source as s3:\/\/<bucket>\/ or s3:\/\/<bucket>\/<prefix>\//],
    ["s3://ab/", /"ab" in .* is not a bucket name/],
    ["s3://-ab/", /"-ab" in .* is not a bucket name/],
    ["s3://ab-/", /"ab-" in .* is not a bucket name/],
    [`s3://${"a".repeat(223)}/`, /is not a bucket name/],
    ["s3:///data/", /"" in s3:\/\/\/data\/ is not a bucket name/],
    ["gs://b_x/data", /gs:\/\/b_x\/data must name a folder: end it with "\/" \(gs:\/\/b_x\/data\/\) to copy every object under it/],
    ["s3://bucket//data/", /the prefix "\/data\/" in s3:\/\/bucket\/\/data\/ has an empty, "\." or "\.\." segment; give source as s3:\/\/<bucket>\/ or s3:\/\/<bucket>\/<prefix>\//],
    ["s3://bucket/a//b/", /the prefix "a\/\/b\/" .* has an empty/],
    ["s3://bucket/./", /the prefix "\.\/" .* has an empty/],
    ["s3://bucket/a/../", /the prefix "a\/\.\.\/" .* has an empty/],
  ])("%s is refused on source", (source, message) => {
    let err: unknown;
    try {
      parseObjectSource(source);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as ZillizValidationError).field).toBe("source");
    expect((err as Error).message).toMatch(message);
  });

  test("the longest bucket name and one of three characters pass", () => {
    expect(parseObjectSource(`s3://${"a".repeat(222)}/`).bucket).toHaveLength(222);
    expect(parseObjectSource("s3://abc/").bucket).toBe("abc");
  });
});

describe("reading an object source (gofakes3 behind a proxy)", () => {
  let fake: { url: string; stop: () => Promise<void> };
  let proxy: S3Proxy;
  let src: S3Client;

  beforeAll(async () => {
    fake = await startGofakes3("lake");
    src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  }, 120_000);
  afterAll(async () => {
    src?.destroy();
    await fake?.stop();
  });
  withSourceEnv({ accessKeyId: "AKIDUNIT", secretAccessKey: "unit-secret" });
  beforeEach(async () => {
    proxy = await startS3Proxy(fake.url);
  });
  afterEach(async () => {
    await proxy.close();
  });

  const client = (source = "s3://lake/u/", settings: object = {}) => new ObjectSourceClient(parseObjectSource(source), { sourceEndpoint: proxy.url, ...settings });
  async function put(key: string, body: Buffer | string) {
    const bytes = Buffer.from(body);
    await src.send(new PutObjectCommand({ Bucket: "lake", Key: key, Body: bytes, ContentLength: bytes.length }));
  }
  async function failure(fn: () => Promise<unknown>): Promise<Error> {
    try {
      await fn();
    } catch (err) {
      return err as Error;
    }
    throw new Error("it did not fail");
  }

  test("the store's refusals name the operation, the store's code and the fix, never a key", async () => {
    const c = client();
    try {
      proxy.refuse = () => ({ status: 404, code: "NoSuchBucket" });
      const missing = await failure(() => c.list(new GlobFilter([], [])));
      expect(missing).toBeInstanceOf(ZillizStoreError);
      expect(missing.message).toMatch(/^ListObjectsV2 s3:\/\/lake\/u\/ on the source failed: NoSuchBucket: refused by the proxy; check the bucket in source \(and sourceEndpoint for a store other than AWS\)$/);
      expect((missing as ZillizStoreError).storeCode).toBe("NoSuchBucket");
      for (const code of ["InvalidAccessKeyId", "SignatureDoesNotMatch"]) {
        proxy.refuse = () => ({ status: 400, code });
        const refused = await failure(() => c.list(new GlobFilter([], [])));
        expect(refused.message).toMatch(new RegExp(`failed: ${code}: refused by the proxy; the source's credentials come from the AWS default chain`));
      }
      proxy.refuse = () => ({ status: 403, code: "SomethingElse" });
      expect((await failure(() => c.list(new GlobFilter([], [])))).message).toMatch(/SomethingElse: refused by the proxy; the source's credentials come from/);
      proxy.refuse = () => ({ status: 400, code: "InvalidRequest" });
      const other = await failure(() => c.list(new GlobFilter([], [])));
      expect(other.message).toMatch(/failed: InvalidRequest: refused by the proxy$/);
      for (const e of [missing, other]) expect(e.message).not.toMatch(/AKIDUNIT|unit-secret/);
    } finally {
      c.close();
    }
  });

  test("a store that cannot be reached is a transport error naming the operation", async () => {
    const c = new ObjectSourceClient(parseObjectSource("s3://lake/u/"), { sourceEndpoint: "http://127.0.0.1:9" });
    try {
      const err = await failure(() => c.list(new GlobFilter([], [])));
      expect(err).toBeInstanceOf(ZillizTransportError);
      expect(err.message).toMatch(/ListObjectsV2 s3:\/\/lake\/u\/ on the source failed: .*ECONNREFUSED/);
    } finally {
      c.close();
    }
  }, 60_000);

  test("the listing: keys relative to the prefix, folder markers and other prefixes skipped, sorted; a key with an empty segment refused", async () => {
    await put("list/b.json", "b");
    await put("list/a/z.json", "z");
    await put("list/dir/", "");
    await put("list/", "");
    await put("listing-other/x.json", "x");
    const c = client("s3://lake/list/");
    try {
      const listed = await c.list(new GlobFilter([], []));
      expect(listed.map((o) => [o.rel, o.size])).toEqual([
        ["a/z.json", 1],
        ["b.json", 1],
      ]);
      expect(listed.every((o) => /^"?[0-9a-f]{32}"?$/.test(o.etag) && o.mtimeMs > 0)).toBe(true);
      await put("list/bad//x.json", "x");
      const err = await failure(() => c.list(new GlobFilter([], [])));
      expect(err.message).toMatch(/the object s3:\/\/lake\/list\/bad\/\/x\.json has an empty, "\." or "\.\." segment in its key and cannot be copied to a path; leave it out with `exclude`/);
      expect((await c.list(new GlobFilter([], ["bad/**"]))).map((o) => o.rel)).toEqual(["a/z.json", "b.json"]);
    } finally {
      c.close();
    }
  });

  test("hashing reads the whole object once: its SHA-256, and part CRC32s only for an object an upload sends in parts", async () => {
    const small = randomBytes(16 * MiB - 1);
    const large = randomBytes(16 * MiB);
    await put("h/small.bin", small);
    await put("h/large.bin", large);
    const c = client("s3://lake/h/");
    try {
      const listed = new Map((await c.list(new GlobFilter([], []))).map((o) => [o.rel, o]));
      const s = await hashObject(c, listed.get("small.bin")!);
      expect(s).toEqual({ sha256: createHash("sha256").update(small).digest("hex") });
      const l = await hashObject(c, listed.get("large.bin")!);
      expect(l.sha256).toBe(createHash("sha256").update(large).digest("hex"));
      const crcs = [crc32(large.subarray(0, 8 * MiB)), crc32(large.subarray(8 * MiB))];
      expect(l.parts).toEqual({ sha256: l.sha256, size: large.length, partSize: 8 * MiB, crc32: crcs });
      // A body broken off is read again from the start, and the digest and the CRC32s are the whole object's.
      const cuts = [MiB];
      proxy.cut = (r) => (r.method === "GET" && !/list-type/.test(r.url) ? cuts.shift() : undefined);
      proxy.seen.length = 0;
      expect(await hashObject(c, listed.get("large.bin")!)).toEqual(l);
      expect(proxy.seen.filter((r) => r.method === "GET").map((r) => r.cut)).toEqual([MiB, undefined]);
      proxy.cut = undefined;
      // Listed at one size, found at another: the object changed, nothing is hashed for it.
      const wrong = await failure(() => hashObject(c, { ...listed.get("small.bin")!, size: small.length + 1 }));
      expect(wrong).toBeInstanceOf(ZillizFileChangedError);
      expect(wrong.message).toMatch(/s3:\/\/lake\/h\/small\.bin changed since it was scanned \(expected 16777216 bytes.*found 16777215 bytes\)/);
    } finally {
      c.close();
    }
  });

  test("a read that breaks mid-object opens again from the byte it broke at; after four breaks in one read it fails", async () => {
    const body = randomBytes(3 * MiB);
    await put("s/o.bin", body);
    const c = client("s3://lake/s/");
    try {
      const [o] = await c.list(new GlobFilter([], []));
      const entry = { size: o.size, sha256: createHash("sha256").update(body).digest("hex"), mtimeMs: 0, etag: o.etag };
      const source = objectPlannedSource(c, new Map<string, FileIdentity>());
      expect(source.hashedParts("o.bin")).toBeUndefined();
      // The first two GETs break off after 1 MiB and after 100 KiB.
      const cuts = [MiB, 100 * 1024];
      proxy.cut = (r) => (r.method === "GET" && !/list-type/.test(r.url) ? cuts.shift() : undefined);
      const ranges: (string | undefined)[] = [];
      proxy.gate = async (req) => {
        ranges.push(req.headers.range);
        return undefined;
      };
      proxy.seen.length = 0;
      const reader = await source.open("o.bin", entry);
      const buf = Buffer.alloc(body.length);
      expect(await reader.read(buf, 0)).toBe(body.length);
      expect(buf.equals(body)).toBe(true);
      expect(await reader.hasMoreThan(body.length)).toBe(false);
      await reader.close();
      const gets = proxy.seen.filter((r) => r.method === "GET");
      expect(gets).toHaveLength(3);
      // The reopened reads asked for the rest only (one GET each, a range from where the bytes stopped).
      expect(gets.map((r) => r.cut)).toEqual([MiB, 100 * 1024, undefined]);
      expect(ranges).toEqual([undefined, `bytes=${MiB}-`, `bytes=${MiB + 100 * 1024}-`]);
      proxy.gate = undefined;

      // Reads in order share one GET; a read elsewhere opens it there; past the end reads nothing.
      proxy.cut = undefined;
      proxy.seen.length = 0;
      const parts = await source.open("o.bin", entry);
      const a = Buffer.alloc(MiB);
      expect(await parts.read(a, 0)).toBe(MiB);
      expect(await parts.read(a, MiB)).toBe(MiB);
      expect(a.equals(body.subarray(MiB, 2 * MiB))).toBe(true);
      expect(await parts.read(a, 0)).toBe(MiB);
      expect(a.equals(body.subarray(0, MiB))).toBe(true);
      expect(await parts.read(a, 2 * MiB + 512 * 1024)).toBe(512 * 1024);
      expect(a.subarray(0, 512 * 1024).equals(body.subarray(2 * MiB + 512 * 1024))).toBe(true);
      expect(await parts.read(a, body.length)).toBe(0);
      expect(await parts.read(Buffer.alloc(0), 0)).toBe(0);
      await parts.close();
      expect(proxy.seen.filter((r) => r.method === "GET")).toHaveLength(3);

      // Every GET breaks: the read gives up after four reopenings.
      proxy.cut = (r) => (r.method === "GET" ? 1000 : undefined);
      proxy.seen.length = 0;
      const broken = await source.open("o.bin", entry);
      await expect(broken.read(Buffer.alloc(body.length), 0)).rejects.toThrow();
      await broken.close();
      expect(proxy.seen.filter((r) => r.method === "GET")).toHaveLength(5);
    } finally {
      c.close();
    }
  }, 60_000);

  test("an entry without an ETag cannot be read, and one whose object changed is refused naming it", async () => {
    await put("e/x.json", "one");
    const c = client("s3://lake/e/");
    try {
      const [o] = await c.list(new GlobFilter([], []));
      const source = objectPlannedSource(c, new Map());
      const entry = { size: 3, sha256: "0".repeat(64), mtimeMs: 0 };
      const noTag = await failure(() => source.open("x.json", entry));
      expect(noTag.message).toMatch(/s3:\/\/lake\/e\/x\.json changed since it was scanned .*found no ETag recorded for it; run again/);
      await put("e/x.json", "two");
      const reader = await source.open("x.json", { ...entry, etag: o.etag });
      const changed = await failure(() => reader.read(Buffer.alloc(3), 0));
      expect(changed).toBeInstanceOf(ZillizFileChangedError);
      expect(changed.message).toMatch(/s3:\/\/lake\/e\/x\.json changed since it was scanned .*another version of the object/);
      // A store that honours If-Match answers 412; one whose object is gone, NoSuchKey: both are a changed source, not a store failure.
      for (const [status, code, found] of [[412, "PreconditionFailed", "another version of the object \\(its ETag changed\\)"], [404, "NoSuchKey", "no object"]] as const) {
        proxy.refuse = (r) => (r.method === "GET" && !/list-type/.test(r.url) ? { status, code } : undefined);
        const again = await source.open("x.json", { ...entry, etag: o.etag });
        const err = await failure(() => again.read(Buffer.alloc(3), 0));
        expect(err).toBeInstanceOf(ZillizFileChangedError);
        expect(err.message).toMatch(new RegExp(`x\\.json changed since it was scanned .*found ${found}\\)`));
      }
    } finally {
      c.close();
    }
  });

  test("a listing of more than 1,000 objects is read page after page", async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `page/${String(i).padStart(4, "0")}.json`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => put(k, "x")));
    const c = client("s3://lake/page/");
    try {
      proxy.seen.length = 0;
      const listed = await c.list(new GlobFilter([], []));
      expect(listed).toHaveLength(1005);
      expect(listed[1004].rel).toBe("1004.json");
      expect(proxy.seen.filter((r) => /list-type=2/.test(r.url))).toHaveLength(2);
    } finally {
      c.close();
    }
  }, 60_000);

  test("gs:// needs both halves of the HMAC key", async () => {
    for (const [id, secret] of [["GOOGHALF", undefined], [undefined, "half-secret"]]) {
      delete process.env.GS_ACCESS_KEY_ID;
      delete process.env.GS_SECRET_ACCESS_KEY;
      if (id) process.env.GS_ACCESS_KEY_ID = id;
      if (secret) process.env.GS_SECRET_ACCESS_KEY = secret;
      const c = client("gs://lake/u/");
      try {
        const err = await failure(() => c.list(new GlobFilter([], [])));
        expect(err.message).toMatch(/a gs:\/\/ source needs credentials in the environment: GOOGLE_OAUTH_ACCESS_TOKEN .* or GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY/);
        expect(err.message).not.toMatch(/half-secret/);
      } finally {
        c.close();
      }
    }
    delete process.env.GS_ACCESS_KEY_ID;
    delete process.env.GS_SECRET_ACCESS_KEY;
  });

  test("every read is signed with the chain's keys (SigV4 checked, as a store does), keys with spaces and unicode included, and a wrong key is refused", async () => {
    const bodies = new Map([
      ["g/a b+c.bin", randomBytes(300 * 1024)],
      ["g/é/(x)*!.bin", randomBytes(6 * MiB)],
    ]);
    for (const [key, body] of bodies) await put(key, body);
    const c = client("s3://lake/g/");
    try {
      const listed = await c.list(new GlobFilter([], []));
      proxy.gate = sigV4Gate("AKIDUNIT", "unit-secret");
      proxy.seen.length = 0;
      const source = objectPlannedSource(c, new Map());
      for (const o of listed) {
        const body = bodies.get(`g/${o.rel}`)!;
        expect((await hashObject(c, o)).sha256).toBe(createHash("sha256").update(body).digest("hex"));
        const reader = await source.open(o.rel, { size: o.size, sha256: "", mtimeMs: 0, etag: o.etag });
        const out = Buffer.alloc(o.size);
        expect(await reader.read(out, 0)).toBe(o.size);
        await reader.close();
        expect(out.equals(body)).toBe(true);
      }
      expect(proxy.seen.filter((r) => r.method === "GET" && !r.refused)).toHaveLength(4);
      proxy.gate = sigV4Gate("AKIDUNIT", "another-secret");
      const refused = await failure(() => hashObject(c, listed[0]));
      expect(refused.message).toMatch(/GetObject s3:\/\/lake\/g\/.* on the source failed: SignatureDoesNotMatch: refused by the proxy; the source's credentials come from/);
      expect(refused.message).not.toMatch(/unit-secret|another-secret/);
    } finally {
      proxy.gate = undefined;
      c.close();
    }
  });

  test("a resumed read answered with the whole object instead of the rest is refused, never spliced in", async () => {
    const body = randomBytes(3 * MiB);
    await put("r/o.bin", body);
    const c = client("s3://lake/r/");
    try {
      const [o] = await c.list(new GlobFilter([], []));
      const entry = { size: o.size, sha256: "", mtimeMs: 0, etag: o.etag };
      // The first GET breaks off after 1 MiB; the store then ignores the Range of the reopened one (HTTP allows that).
      const cuts = [MiB];
      proxy.cut = (r) => (r.method === "GET" && !/list-type/.test(r.url) ? cuts.shift() : undefined);
      proxy.gate = async (req) => {
        delete req.headers.range;
        return undefined;
      };
      const reader = await objectPlannedSource(c, new Map()).open("o.bin", entry);
      const err = await failure(() => reader.read(Buffer.alloc(body.length), 0));
      expect(err).toBeInstanceOf(ZillizStoreError);
      expect(err.message).toMatch(/asked for bytes from 1048576 to resume a broken read, the store answered with the whole object; nothing was stored for it/);
      await reader.close();
    } finally {
      c.close();
    }
  });

  test("a listing page that says more follows but gives no token is refused, not taken for all (its copies would be removed)", async () => {
    const c = client("s3://lake/u/");
    try {
      // A store that ignores list-type=2 answers in the ListObjectsV1 form: IsTruncated, and a NextMarker instead of a token.
      (c as unknown as { s3: { send: () => Promise<unknown> } }).s3.send = async () => ({ IsTruncated: true, Contents: [{ Key: "u/a.json", Size: 1, ETag: '"x"', LastModified: new Date() }] });
      const err = await failure(() => c.list(new GlobFilter([], [])));
      expect(err.message).toMatch(/said the listing goes on but gave no continuation token/);
    } finally {
      c.close();
    }
  });

  test("a key ending in / that holds data is refused unless excluded; an empty one is a folder marker; an ETag quoted differently is the same version", async () => {
    await put("d/real.json", "x");
    await put("d/marker/", "");
    const c = client("s3://lake/d/");
    try {
      expect((await c.list(new GlobFilter([], []))).map((o) => o.rel)).toEqual(["real.json"]);
      await put("d/data-dir/", "bytes under a folder-like key");
      const err = await failure(() => c.list(new GlobFilter([], [])));
      expect(err.message).toMatch(/the object s3:\/\/lake\/d\/data-dir\/ holds 29 bytes under a key ending in "\/", which cannot be copied to a file; leave it out with `exclude`/);
      expect((await c.list(new GlobFilter([], ["data-dir/"]))).map((o) => o.rel)).toEqual(["real.json"]);
      const [o] = await c.list(new GlobFilter(["real.json"], []));
      // The listing's ETag without its quotes: the GET's quoted one names the same version.
      const reader = await objectPlannedSource(c, new Map()).open("real.json", { size: 1, sha256: "", mtimeMs: 0, etag: o.etag.replace(/"/g, "") });
      const buf = Buffer.alloc(1);
      expect(await reader.read(buf, 0)).toBe(1);
      expect(buf.toString()).toBe("x");
    } finally {
      c.close();
    }
  });

  test("a sourceEndpoint that carries a user or password is refused: it is kept in the state", () => {
    expect(() => new ObjectSourceClient(parseObjectSource("s3://lake/u/"), { sourceEndpoint: "https://user:pass@s3.example.com" })).toThrow(/sourceEndpoint|must not carry a user or password/);
  });
});
