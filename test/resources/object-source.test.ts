// StagedFiles with an object-store source (s3://bucket/prefix/), copied from
// a third-party S3 server (gofakes3, built from its Go module) into the
// emulator's stage through the provider, as `pulumi up` drives it. A proxy
// in front of gofakes3 records every request (so "no GET" is checked on the
// wire) and plays the store's refusals and an expiring credential.
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Emulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import { decodeManifest, listRemoteDigests } from "../../provider/upload";
import { capturingContext, configuredProvider } from "../helpers/provider";
import { mkTmp, rmTmp } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy";
import { withSourceEnv } from "../helpers/source-env";
import { emulatorWithStage } from "../helpers/stage";
const { startGofakes3 } = require("../../scripts/gofakes3") as { startGofakes3: (bucket: string) => Promise<{ url: string; stop: () => Promise<void> }> };

const PREFIX = "stages/proj-1/raw/";
const MiB = 1024 * 1024;

describe("StagedFiles from an s3:// source (gofakes3)", () => {
  let fake: { url: string; stop(): Promise<void> };
  let proxy: S3Proxy;
  let src: S3Client;
  let emu: Emulator;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  let said: string[];
  let tmp: string;
  /** This test's prefix in the shared source bucket. */
  let p = "";
  let tests = 0;

  beforeAll(async () => {
    fake = await startGofakes3("src");
  }, 120_000);
  afterAll(async () => {
    await fake?.stop();
  });

  // Credentials from the AWS default chain, as a user keeps them: here the environment.
  withSourceEnv({ accessKeyId: "AKIDSOURCEKEY", secretAccessKey: "source-secret-never-shown" });
  beforeEach(async () => {
    p = `t${++tests}`;
    tmp = await mkTmp();
    proxy = await startS3Proxy(fake.url);
    src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    emu = await emulatorWithStage({ projectId: "proj-1", stageName: "raw" });
    said = [];
    ({ provider, close } = await configuredProvider("stagedFiles", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url }, capturingContext(said)));
  });
  afterEach(async () => {
    await close();
    await emu.stop();
    src.destroy();
    await proxy.close();
    await rmTmp(tmp);
  });

  async function put(key: string, body: string | Buffer) {
    const bytes = Buffer.from(body);
    await src.send(new PutObjectCommand({ Bucket: "src", Key: key, Body: bytes, ContentLength: bytes.length }));
  }

  /** The stage's objects under data/, relative: path -> bytes. */
  async function staged(): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const o of emu.listObjects(`${PREFIX}data/`)) out.set(o.key.slice(`${PREFIX}data/`.length), await emu.readObject(o.key));
    return out;
  }

  const gets = () => proxy.seen.filter((r) => r.method === "GET" && !/[?&]list-type=2/.test(r.url));

  /** check + diff + create/update, as one `pulumi up` of the resource would do. */
  async function up(olds: { id: string; outs: any } | undefined, source: string, extra: Record<string, unknown> = {}) {
    const checked = await provider.check({}, { stageName: "raw", source, path: "data/", sourceEndpoint: proxy.url, ...extra });
    expect(checked.failures).toEqual([]);
    if (!olds) {
      const created = await provider.create(checked.inputs);
      return { id: created.id, outs: created.outs, diff: undefined as pulumi.dynamic.DiffResult | undefined, inputs: checked.inputs };
    }
    const diff = await provider.diff(olds.id, olds.outs, checked.inputs);
    if (!diff.changes) return { ...olds, diff, inputs: checked.inputs };
    const updated = await provider.update(olds.id, olds.outs, checked.inputs);
    return { id: olds.id, outs: updated.outs, diff, inputs: checked.inputs };
  }

  test("first copy, a no-op without a GET, then one changed, one removed, one added; a multipart-sized object", async () => {
    const big = randomBytes(17 * MiB);
    await put(`${p}/a.json`, "one");
    await put(`${p}/b.json`, "two");
    await put(`${p}/sub/c.json`, "three");
    await put(`${p}/big.bin`, big);
    await put(`${p}/empty-folder/`, "");
    await put("elsewhere/x.json", "not under the prefix");

    let state = await up(undefined, `s3://src/${p}/`);
    // Every key was free: each object was read once, hashed as it was sent.
    for (const name of ["a.json", "big.bin"]) expect(gets().filter((r) => r.url.includes(`/${p}/${name}`))).toHaveLength(1);
    const held = await staged();
    expect([...held.keys()].sort()).toEqual(["a.json", "b.json", "big.bin", "sub/c.json"]);
    expect(held.get("a.json")!.toString()).toBe("one");
    expect(held.get("big.bin")!.equals(big)).toBe(true);
    const manifest = decodeManifest(state.outs.manifest);
    expect(manifest["big.bin"]).toMatchObject({ size: big.length, sha256: createHash("sha256").update(big).digest("hex"), etag: expect.any(String) });
    // The store records the SHA-256 computed on the way, as for a local file.
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    const digests = await listRemoteDigests(client, { stageName: "raw", path: "data/" }).finally(() => client.close());
    expect(digests.get("big.bin")?.sha256).toBe(manifest["big.bin"].sha256);
    expect(digests.get("a.json")?.sha256).toBe(manifest["a.json"].sha256);
    expect(state.outs).toMatchObject({ fileCount: 4, source: `s3://src/${p}/`, sourceEndpoint: proxy.url });
    // The source's credentials are nowhere in what the state keeps.
    expect(JSON.stringify([state.outs, state.inputs])).not.toMatch(/AKIDSOURCEKEY|source-secret-never-shown/);
    expect(said.join("\n")).not.toMatch(/AKIDSOURCEKEY|source-secret-never-shown/);

    // No-op: one listing, not a byte read.
    proxy.seen.length = 0;
    state = await up(state, `s3://src/${p}/`);
    expect(state.diff?.changes).toBe(false);
    expect(gets()).toEqual([]);
    expect(proxy.seen.filter((r) => r.method === "GET").length).toBeGreaterThan(0);

    // One changed, one removed, one added: the preview names them without a GET.
    await put(`${p}/a.json`, "ONE, longer");
    await src.send(new DeleteObjectCommand({ Bucket: "src", Key: `${p}/b.json` }));
    await put(`${p}/d.json`, "four");
    proxy.seen.length = 0;
    said.length = 0;
    const checked = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    const preview = await provider.diff(state.id, state.outs, checked.inputs);
    expect(preview.changes).toBe(true);
    expect(gets()).toEqual([]);
    expect(said.join("\n")).toMatch(/1 added, 1 changed, 1 removed/);
    state = await up(state, `s3://src/${p}/`);
    // Read only what changed: the two new contents (hash, then copy), never the big object.
    expect(gets().every((r) => new RegExp(`/src/${p}/(a|d)\\.json`).test(r.url))).toBe(true);
    const after = await staged();
    expect([...after.keys()].sort()).toEqual(["a.json", "big.bin", "d.json", "sub/c.json"]);
    expect(after.get("a.json")!.toString()).toBe("ONE, longer");
    expect(state.outs.fileCount).toBe(4);

    await provider.delete(state.id, state.outs);
    expect(emu.listObjects(`${PREFIX}data/`)).toEqual([]);
  }, 120_000);

  test("a source that refuses access is refused at check, naming the source and where its credentials come from, never the key", async () => {
    await put(`${p}/a.json`, "one");
    proxy.refuse = () => ({ status: 403, code: "AccessDenied" });
    const checked = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    expect(checked.failures).toEqual([{ property: "source", reason: expect.stringMatching(/ListObjectsV2 s3:\/\/src\/t\d+\/ on the source failed: AccessDenied.*AWS default chain/) }]);
    expect(JSON.stringify(checked)).not.toMatch(/AKIDSOURCEKEY|source-secret-never-shown/);
    // Once: a refusal is not transient.
    expect(proxy.seen.length).toBe(1);
  });

  test("a credential that expires mid-copy is fetched again from the chain (credential_process) and the copy completes", async () => {
    for (let i = 0; i < 6; i++) await put(`${p}/${i}.json`, `file ${i}`);
    // A profile whose credential_process hands out a new session token on each call.
    const counter = path.join(tmp, "calls");
    const script = path.join(tmp, "creds.js");
    await fs.writeFile(
      script,
      `const fs=require("fs");const f=${JSON.stringify(counter)};let n=0;try{n=Number(fs.readFileSync(f,"utf8"))}catch{}n++;fs.writeFileSync(f,String(n));` +
        `process.stdout.write(JSON.stringify({Version:1,AccessKeyId:"AKIDPROCESS",SecretAccessKey:"process-secret",SessionToken:"token-"+n,Expiration:new Date(Date.now()+3600e3).toISOString()}))`,
    );
    await fs.writeFile(path.join(tmp, "config"), `[profile source]\ncredential_process = ${process.execPath} ${script}\n`);
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_CONFIG_FILE = path.join(tmp, "config");
    process.env.AWS_PROFILE = "source";
    // Each token expires once it has served three GETs of object bytes.
    const served = new Map<string | undefined, number>();
    proxy.refuse = (r) => {
      if (r.method !== "GET" || /list-type=2/.test(r.url)) return undefined;
      const n = (served.get(r.token) ?? 0) + 1;
      served.set(r.token, n);
      return n > 3 ? { status: 400, code: "ExpiredToken" } : undefined;
    };
    const state = await up(undefined, `s3://src/${p}/`);
    expect([...(await staged()).keys()].sort()).toEqual(["0.json", "1.json", "2.json", "3.json", "4.json", "5.json"]);
    expect(state.outs.fileCount).toBe(6);
    expect(proxy.seen.some((r) => r.refused === "ExpiredToken")).toBe(true);
    // Every byte GET after an expiry went out with a token the chain fetched anew.
    expect(new Set(proxy.seen.filter((r) => r.method === "GET").map((r) => r.token)).size).toBeGreaterThan(2);
    expect(JSON.stringify(state.outs)).not.toMatch(/process-secret|token-\d/);
  }, 60_000);

  test("a local path with source settings, and a source that is not a folder, are refused at check with the fix", async () => {
    const local = await provider.check({}, { stageName: "raw", source: tmp, sourceEndpoint: proxy.url });
    expect(local.failures).toEqual([{ property: "source", reason: expect.stringMatching(/apply to an s3:\/\/ or gs:\/\/ source.*remove them/) }]);
    const file = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/a.json`, sourceEndpoint: proxy.url });
    expect(file.failures).toEqual([{ property: "source", reason: expect.stringMatching(/must name a folder: end it with "\/" \(s3:\/\/src\/t\d+\/a\.json\/\)/) }]);
    const empty = await provider.check({}, { stageName: "raw", source: "s3://src/nothing-here/", sourceEndpoint: proxy.url });
    expect(empty.failures).toEqual([{ property: "source", reason: expect.stringMatching(/no object under the prefix.*allowEmpty: true/) }]);
  });

  test("an object rewritten at the source after the listing is refused, naming it, and nothing is stored for it", async () => {
    await put(`${p}/a.json`, "one");
    await put(`${p}/b.json`, "two");
    const checked = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    expect(checked.failures).toEqual([]);
    // Between the preview's listing and the up's read.
    await put(`${p}/b.json`, "TWO, rewritten");
    const failure = (await provider.create(checked.inputs).catch((err: unknown) => err)) as Error & { id: string; properties: { manifest: string } };
    expect(failure.message).toMatch(new RegExp(`s3://src/${p}/b\\.json changed since it was scanned.*another version of the object.*nothing was stored for it`));
    // a.json arrived and is recorded; nothing is stored for b.json, under any digest.
    expect([...(await staged()).keys()]).toEqual(["a.json"]);
    expect(Object.keys(decodeManifest(failure.properties.manifest))).toEqual(["a.json"]);
    // The next run lists again and copies the new version.
    const state = await up({ id: failure.id, outs: failure.properties }, `s3://src/${p}/`);
    expect((await staged()).get("b.json")?.toString()).toBe("TWO, rewritten");
    expect(state.outs.fileCount).toBe(2);
  });

  test("gs:// signs with the Cloud Storage HMAC key from the environment, and says which variables to set when there is none", async () => {
    await put(`${p}/a.json`, "one");
    const bare = await provider.check({}, { stageName: "raw", source: `gs://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    expect(bare.failures).toEqual([{ property: "source", reason: expect.stringMatching(/GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY/) }]);
    expect(proxy.seen).toEqual([]);
    process.env.GS_ACCESS_KEY_ID = "GOOGHMACKEY";
    process.env.GS_SECRET_ACCESS_KEY = "gcs-hmac-secret";
    const state = await up(undefined, `gs://src/${p}/`);
    expect((await staged()).get("a.json")?.toString()).toBe("one");
    expect(new Set(proxy.seen.map((r) => r.accessKey))).toEqual(new Set(["GOOGHMACKEY"]));
    expect(JSON.stringify(state.outs)).not.toMatch(/GOOGHMACKEY|gcs-hmac-secret/);
  });

  test("gs:// with an access token in GOOGLE_OAUTH_ACCESS_TOKEN sends it as a Bearer token, unsigned, for the listing and the reads; an expired one is refused saying what to set, and the token is never shown", async () => {
    await put(`${p}/a.json`, "one");
    await put(`${p}/big.bin`, randomBytes(17 * MiB));
    const token = "ya29.test-access-token-never-shown";
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = token;
    let valid = true;
    // As the XML API does: a Bearer token and no SigV4 (the signature headers would be refused).
    proxy.gate = async (req) => {
      const auth = req.headers.authorization ?? "";
      if (req.headers["x-amz-date"] || req.headers["x-amz-content-sha256"] || !auth.startsWith("Bearer ")) return { status: 400, code: "InvalidArgument" };
      return valid && auth === `Bearer ${token}` ? undefined : { status: 401, code: "AuthenticationRequired" };
    };
    const state = await up(undefined, `gs://src/${p}/`);
    const arrived = await staged();
    expect(arrived.get("a.json")?.toString()).toBe("one");
    expect(arrived.get("big.bin")?.length).toBe(17 * MiB);
    expect(gets().length).toBeGreaterThan(0);
    expect(proxy.seen.filter((r) => r.refused)).toEqual([]);
    expect(proxy.seen.some((r) => r.accessKey)).toBe(false);
    expect(JSON.stringify(state.outs)).not.toContain(token);

    // An hour later: the store refuses the token.
    valid = false;
    await put(`${p}/b.json`, "two");
    const checked = await provider.check({}, { stageName: "raw", source: `gs://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    // The check lists the source, so the refusal comes before any plan.
    expect(checked.failures).toEqual([{ property: "source", reason: expect.any(String) }]);
    const refusal = checked.failures![0].reason;
    expect(refusal).toMatch(/AuthenticationRequired/);
    expect(refusal).toMatch(/GOOGLE_OAUTH_ACCESS_TOKEN/);
    expect(refusal).not.toContain(token);
    expect(said.join("\n")).not.toContain(token);
  }, 60_000);

  test("a copy that fails part-way records what arrived; the next up copies only the rest", async () => {
    for (const name of ["a", "b", "c"]) await put(`${p}/${name}.json`, `content of ${name}`);
    // b.json's copy is refused for good (not a transient failure).
    proxy.refuse = (r) => (r.method === "GET" && !/list-type=2/.test(r.url) && r.url.includes("/b.json") ? { status: 403, code: "AccessDenied" } : undefined);
    const checked = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    const failure = (await provider.create(checked.inputs).catch((err: unknown) => err)) as Error & { id: string; properties: { manifest: string } };
    expect(failure.message).toMatch(/b\.json.*AccessDenied/);
    expect(Object.keys(decodeManifest(failure.properties.manifest)).sort()).toEqual(["a.json", "c.json"]);
    expect([...(await staged()).keys()].sort()).toEqual(["a.json", "c.json"]);

    proxy.refuse = undefined;
    proxy.seen.length = 0;
    const again = await up({ id: failure.id, outs: failure.properties }, `s3://src/${p}/`);
    expect(again.outs.fileCount).toBe(3);
    expect((await staged()).get("b.json")?.toString()).toBe("content of b");
    // Only b.json was read again: the others are recorded with their ETags.
    expect(gets().every((r) => r.url.includes("/b.json"))).toBe(true);
    expect(gets().length).toBeGreaterThan(0);
  });

  test("a rename (a second resource on the same source and path, then the first one's delete): the objects are joined, not sent again, and stay", async () => {
    for (const name of ["a", "b"]) await put(`${p}/${name}.json`, `content of ${name}`);
    const inputs = (urn: string) => provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url, ownerUrn: urn });
    const first = await provider.create((await inputs("urn:pulumi:dev::p::zillizcloud:StagedFiles::files")).inputs);
    emu.clearRequests();
    // The new name is created before the old one is deleted, as the engine does: the keys are occupied, so the objects are hashed and joined.
    const second = await provider.create((await inputs("urn:pulumi:dev::p::zillizcloud:StagedFiles::batch")).inputs);
    expect(emu.requests().filter((r) => r.kind === "s3:put" && r.bytes > 0)).toEqual([]);
    await provider.delete(first.id, first.outs);
    expect([...(await staged()).keys()].sort()).toEqual(["a.json", "b.json"]);
    expect(Object.keys(decodeManifest(second.outs.manifest)).sort()).toEqual(["a.json", "b.json"]);
    await provider.delete(second.id, second.outs);
    expect(emu.listObjects(`${PREFIX}data/`)).toEqual([]);
  });

  test("a large object hashed as it was sent gets its digest after completing; when that copy fails, it is still recorded, and a destroy removes it", async () => {
    const big = randomBytes(17 * MiB);
    await put(`${p}/big.bin`, big);
    const checked = await provider.check({}, { stageName: "raw", source: `s3://src/${p}/`, path: "data/", sourceEndpoint: proxy.url });
    // The CopyObject that writes the digest onto the completed object fails for good.
    emu.faults.add({ target: "s3:put", count: 1, status: 501 });
    const failure = (await provider.create(checked.inputs).catch((err: unknown) => err)) as Error & { id: string; properties: { manifest: string } };
    expect(failure.message).toMatch(/big\.bin arrived, but its SHA-256 could not be written onto it .*1 of 1 files arrived and are recorded/);
    const sha256 = createHash("sha256").update(big).digest("hex");
    // Recorded with the digest of the bytes sent: the object is this resource's, whatever its metadata lacks.
    expect(decodeManifest(failure.properties.manifest)["big.bin"]).toMatchObject({ size: big.length, sha256 });
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    try {
      // There, but without a digest in its metadata: nothing adopts or joins it on content.
      expect((await listRemoteDigests(client, { stageName: "raw", path: "data/" })).get("big.bin")).toMatchObject({ size: big.length, sha256: undefined });
    } finally {
      await client.close();
    }
    expect((await staged()).get("big.bin")!.equals(big)).toBe(true);
    // Not orphaned: the destroy that follows the failed create removes it.
    await provider.delete(failure.id, failure.properties);
    expect(emu.listObjects(`${PREFIX}data/`)).toEqual([]);
  }, 60_000);

  test("include and exclude apply to keys relative to the prefix; a pattern that matches nothing is a warning", async () => {
    for (const key of ["a.parquet", "b.json", "sub/c.parquet", "sub/skip/d.parquet"]) await put(`${p}/${key}`, key);
    const state = await up(undefined, `s3://src/${p}/`, { include: ["**/*.parquet"], exclude: ["sub/skip/**", "nothing/**"] });
    expect([...(await staged()).keys()].sort()).toEqual(["a.parquet", "sub/c.parquet"]);
    expect(state.outs.fileCount).toBe(2);
    expect(said.join("\n")).toMatch(/exclude pattern "nothing\/\*\*" matches no file/);
  });

  test("a large object hashed as it is sent: a byte damaged on the way is caught by the part's CRC32 and sent again; the object carries its digest and its owner", async () => {
    const big = randomBytes(17 * MiB);
    await put(`${p}/big.bin`, big);
    // One part arrives with a byte flipped: only the CRC32 computed from what was read can tell.
    emu.faults.add({ target: "s3:part", count: 1, mode: "corrupt" });
    const state = await up(undefined, `s3://src/${p}/`);
    expect((await staged()).get("big.bin")!.equals(big)).toBe(true);
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    const { s3, target } = await stageS3(client, "raw");
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}data/big.bin` }));
      expect(head.Metadata?.sha256).toBe(createHash("sha256").update(big).digest("hex"));
      expect(head.Metadata?.owner).toBe(state.outs.ownerToken);
    } finally {
      s3.destroy();
      await client.close();
    }
    // One copy onto itself for the digest, only for the object hashed on the way.
    expect(emu.requests().filter((r) => r.kind === "s3:put" && r.bytes === 0)).toHaveLength(1);
  }, 60_000);

  test("an object rewritten with other bytes of the same size is seen by its ETag and copied again", async () => {
    await put(`${p}/a.json`, "aaaa");
    let state = await up(undefined, `s3://src/${p}/`);
    await put(`${p}/a.json`, "bbbb");
    state = await up(state, `s3://src/${p}/`);
    expect(state.diff?.changes).toBe(true);
    expect(said.join("\n")).toMatch(/0 added, 1 changed, 0 removed/);
    expect((await staged()).get("a.json")?.toString()).toBe("bbbb");
  });
});
