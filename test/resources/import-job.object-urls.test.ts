// ImportJob straight from the user's own bucket (objectUrls with accessKey
// and secretKey), driven through the controller as the engine drives it,
// against the emulator reading a third-party S3 server (gofakes3, built from
// its Go module). gofakes3 checks no signature, so a proxy in front of it
// checks SigV4 with the one key pair it knows: a job that imports proves
// the emulator signed with the keys the resource was given.
import type * as pulumi from "@pulumi/pulumi";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizApiError, ZillizImportError } from "../../provider/errors";
import { ImportJobOutputs } from "../../provider/resources/import-job-inputs";
import { namedFailure, refusedCreate } from "../../provider/resources/import-job-messages";
import { sameFiles } from "../../provider/resources/import-job-recovery";
import { ProviderContext } from "../../provider/resources/provider-context";
import { jsonRows, parquet } from "../helpers/data-files";
import { configuredProvider } from "../helpers/provider";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy";
import { sigV4Gate } from "../helpers/signing-gate";
const { startGofakes3 } = require("../../scripts/gofakes3") as { startGofakes3: (bucket: string) => Promise<{ url: string; stop: () => Promise<void> }> };

const __provider = "serialized provider text";
const ACCESS = "AKIDUSERBUCKETKEY";
const SECRET = "user-bucket-secret-never-shown";
const keys = { accessKey: ACCESS, secretKey: SECRET };
const base = { __provider, clusterId: "in01-emulator", collectionName: "objects" };
type Partial = ZillizImportError & { id: string; properties: ImportJobOutputs & { __provider: string } };

describe("ImportJob from the user's bucket (objectUrls)", () => {
  let fake: { url: string; stop(): Promise<void> };
  let proxy: S3Proxy;
  let emu: Emulator;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  const lines: string[] = [];

  beforeAll(async () => {
    fake = await startGofakes3("user-bucket");
    proxy = await startS3Proxy(fake.url);
    proxy.gate = sigV4Gate(ACCESS, SECRET);
    const src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    const files: Record<string, string | Buffer> = {
      "in/a.json": jsonRows(3),
      "in/b.parquet": await parquet(250),
      "in/folder/1.json": jsonRows(2),
      "in/folder/2.json": jsonRows(4),
      "in/broken.json": "{ not json",
      "lost/a.json": jsonRows(5),
      "keys/a.json": jsonRows(6),
    };
    for (const [Key, body] of Object.entries(files)) {
      const Body = Buffer.from(body);
      await src.send(new PutObjectCommand({ Bucket: "user-bucket", Key, Body, ContentLength: Body.length }));
    }
    src.destroy();
    // "lost" for the lost answer alone: a job of another test that failed before reading its files could be anyone's, and would make the search ambiguous.
    emu = await startEmulator({ collections: ["in01-emulator/objects", "in01-emulator/lost"], objectUrlEndpoint: proxy.url });
    const context = new ProviderContext({}, undefined, { log: (message) => lines.push(message) });
    ({ provider, close } = await configuredProvider("importJob", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url }, context));
  }, 120_000);
  afterAll(async () => {
    await close?.();
    await emu?.stop();
    await proxy?.close();
    await fake?.stop();
  });
  beforeEach(() => {
    emu.faults.clear();
    emu.clearRequests();
    proxy.seen.length = 0;
    lines.length = 0;
  });

  const accepted = () => emu.requests().filter((r) => r.kind === "import:create" && r.code === 0);
  async function checked(news: Record<string, unknown>): Promise<any> {
    const res = await provider.check({}, news);
    expect(res.failures).toEqual([]);
    return res.inputs;
  }
  /** The collection's rows, through the emulator's inspection route. */
  async function rows(collection = "objects"): Promise<Array<Record<string, unknown>>> {
    const res = await fetch(`${emu.url}/__emulator/collections/in01-emulator/default/${collection}?limit=100000`, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
    return ((await res.json()) as { data: { rows: Array<Record<string, unknown>> } }).data.rows;
  }
  /** Nothing the user could see or the state could keep holds a key. */
  async function expectNoKeys(...things: unknown[]) {
    const persisted = await fs.readFile(path.join(emu.dataDir, "import-jobs.json"), "utf8");
    for (const text of [...things.map((t) => (typeof t === "string" ? t : JSON.stringify(t))), lines.join("\n"), persisted]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(ACCESS);
    }
  }

  test("imports the objects' rows, every read signed with the given keys; the state keeps a digest, never the keys", async () => {
    const before = (await rows()).length;
    const inputs = await checked({ ...base, objectUrls: [["s3://user-bucket/in/a.json"], ["s3://user-bucket/in/folder/"]], ...keys });
    const { id, outs } = await provider.create(inputs);
    expect(outs).toMatchObject({ jobId: id, state: "Completed", importedRows: 9, totalRows: 9, batchCount: 2, pathCount: 2 });
    expect(outs.objectUrlsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(outs.credentialsDigest).toMatch(/^[0-9a-f]{32}:[0-9a-f]{64}$/);
    expect(outs).not.toHaveProperty("accessKey");
    expect(outs).not.toHaveProperty("secretKey");
    const imported = (await rows()).slice(before);
    expect(imported.map((r) => r.id)).toEqual([0, 1, 2, 0, 1, 0, 1, 2, 3]);
    // The store saw the user's key on every request, and refused none (the gate checked each signature).
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((r) => r.accessKey === ACCESS && r.refused === undefined)).toBe(true);
    expect(lines.join("\n")).toContain(`ImportJob objects <- bucket s3://user-bucket: job ${id} Completed: 9 rows imported`);
    await expectNoKeys(outs);
    expect(accepted()).toHaveLength(1);
    // From the state alone (the URLs are not kept), lines still say where the job read.
    await provider.delete(id, { ...outs, state: "Importing" });
    expect(lines.at(-1)).toBe(`ImportJob objects <- bucket (objectUrls): job ${id} may still be running on the service; deleting the resource does not stop it`);

    // A change of only the keys (rotated): an update that records them and starts nothing.
    const rotated = await checked({ ...inputs, accessKey: "AKIDROTATED", secretKey: "rotated-secret" });
    expect(await provider.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await provider.diff(id, outs, rotated)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    const updated = (await provider.update(id, outs, rotated)).outs as ImportJobOutputs;
    expect(updated).toMatchObject({ jobId: id, state: "Completed", importedRows: 9 });
    expect(updated.credentialsDigest).not.toBe(outs.credentialsDigest);
    expect(await provider.diff(id, updated, rotated)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    // Another setting changed, the same keys: the digest stays as it was (no churn of a secret in the state).
    const slower = (await provider.update(id, updated, { ...rotated, timeoutSeconds: 60 })).outs as ImportJobOutputs;
    expect(slower).toMatchObject({ timeoutSeconds: 60, credentialsDigest: updated.credentialsDigest });
    expect(accepted()).toHaveLength(1);
    // Other objects, or a volume instead, are other rows: a new job.
    expect((await provider.diff(id, outs, { ...inputs, objectUrls: [["s3://user-bucket/in/b.parquet"]] })).replaces).toEqual(["objectUrls"]);
    const toVolume = await provider.diff(id, outs, { ...base, volumeName: "raw", dataPaths: [["in/a.json"]] });
    expect(toVolume.replaces).toEqual(["volumeName", "dataPaths", "objectUrls"]);
  });

  test("an http URL on loopback is read directly, signed the same way", async () => {
    const url = `${proxy.url}/user-bucket/in/b.parquet`;
    const { outs } = await provider.create(await checked({ ...base, objectUrls: [[url]], ...keys }));
    expect(outs).toMatchObject({ state: "Completed", importedRows: 250 });
    expect(proxy.seen.map((r) => r.accessKey)).toContain(ACCESS);
  });

  test("wrong keys: the store refuses, the job Fails with that reason and no key; the next up with the right keys starts a new job", async () => {
    const wrong = await checked({ ...base, objectUrls: [["s3://user-bucket/keys/a.json"]], accessKey: ACCESS, secretKey: "wrong-secret-value" });
    const err = (await provider.create(wrong).catch((e: unknown) => e)) as Partial;
    expect(err).toBeInstanceOf(ZillizImportError);
    expect(err.message).toMatch(/Failed at 0%: cannot read s3:\/\/user-bucket\/keys\/a\.json: access denied \(SignatureDoesNotMatch\): the accessKey and secretKey given cannot read it/);
    expect(err.message).toMatch(/The input to fix: objectUrls\[0\]\[0\] \(s3:\/\/user-bucket\/keys\/a\.json\)/);
    expect(err.properties).toMatchObject({ state: "Failed", jobId: err.id });
    expect(proxy.seen.some((r) => r.refused === "SignatureDoesNotMatch")).toBe(true);
    await expectNoKeys(err.message, err.properties);
    expect(JSON.stringify(err.properties)).not.toContain("wrong-secret-value");

    const right = await checked({ ...wrong, secretKey: SECRET });
    expect(await provider.diff(err.id, err.properties, right)).toMatchObject({ changes: true, replaces: ["jobId"] });
    const again = await provider.create(right);
    expect(again.outs).toMatchObject({ state: "Completed", importedRows: 6 });
    expect(again.id).not.toBe(err.id);
  });

  test("a missing or unreadable object fails the job naming objectUrls[i][j]", async () => {
    const missing = (await provider.create(await checked({ ...base, objectUrls: [["s3://user-bucket/in/a.json"], ["s3://user-bucket/in/missing.json"]], ...keys })).catch((e: unknown) => e)) as Error;
    expect(missing).toBeInstanceOf(ZillizImportError);
    expect(missing.message).toMatch(/file s3:\/\/user-bucket\/in\/missing\.json does not exist in the bucket/);
    expect(missing.message).toMatch(/The input to fix: objectUrls\[1\]\[0\]/);
    const broken = (await provider.create(await checked({ ...base, objectUrls: [["s3://user-bucket/in/broken.json"]], ...keys })).catch((e: unknown) => e)) as Error;
    expect(broken.message).toMatch(/cannot read file s3:\/\/user-bucket\/in\/broken\.json: not valid JSON[\s\S]*The input to fix: objectUrls\[0\]\[0\]/);
  });

  test("the answer to create is lost: the job is found by its object URLs and followed; exactly one job", async () => {
    // The answer is lost after the job has read its objects: the search must tell them by their URLs.
    emu.faults.add({ target: "import:create", mode: "lose-answer", delayMs: 500 });
    const { id, outs } = await provider.create(await checked({ ...base, collectionName: "lost", objectUrls: [["s3://user-bucket/lost/"]], ...keys }));
    expect(accepted()).toHaveLength(1);
    expect(outs).toMatchObject({ jobId: id, state: "Completed", importedRows: 5 });
    expect(lines.join("\n")).toContain(`found job ${id}, started by that create (same collection and files, created since); following it, no second job`);
    expect((await rows("lost")).map((r) => r.id)).toEqual([0, 1, 2, 3, 4]);
    await expectNoKeys(outs);
  });

  describe("check refuses, naming the field and the fix, and never a key", () => {
    const urls = { objectUrls: [["s3://user-bucket/in/a.json"]] };
    test.each([
      [{ ...urls, ...keys, volumeName: "raw" }, "objectUrls", /must not be given together with volumeName: import from a volume, a stage, or your own bucket/],
      [{ ...urls, ...keys, dataPaths: [["in/a.json"]] }, "dataPaths", /must not be given together with objectUrls: objectUrls names the objects themselves/],
      [{ ...urls, secretKey: SECRET }, "accessKey", /accessKey is required with objectUrls: the access key .*requireSecret/],
      [{ ...urls, accessKey: ACCESS }, "secretKey", /secretKey is required with objectUrls/],
      [{ volumeName: "raw", dataPaths: [["in/a.json"]], accessKey: ACCESS }, "accessKey", /accessKey is only for objectUrls .*remove it/],
      [{ objectUrl: "s3://user-bucket/in/a.json", ...keys }, "objectUrl", /objectUrl is not taken: write objectUrls: \[\["s3:\/\/bucket\/key\.parquet"\]\]/],
      [{ objectUrls: [["user-bucket/in/a.json"]], ...keys }, "objectUrls.0.0", /must be an object URL with a key, e.g\. "s3:\/\/bucket\/data\/1\.parquet"/],
      [{ objectUrls: [["s3://user-bucket"]], ...keys }, "objectUrls.0.0", /must be an object URL with a key/],
      [{ objectUrls: [["http://example.com/b/k.json"]], ...keys }, "objectUrls.0.0", /http:\/\/ only on 127\.0\.0\.1 or localhost/],
      [{ objectUrls: [["s3://b/1.parquet", "s3://b/2.parquet"]], ...keys }, "objectUrls[0]", /put each file in its own list/],
      [{ objectUrls: [], ...keys }, "objectUrls", /objectUrls is empty: .*set allowEmpty: true/],
      [{ ...urls, accessKey: ACCESS, secretKey: "" }, "secretKey", /secretKey must not be empty/],
      [{ dataPaths: [["in/a.json"]] }, "volumeName", /volumeName is required: .*or objectUrls with accessKey and secretKey/],
    ])("%j -> %s", async (change, property, reason) => {
      const { failures } = await provider.check({}, { ...base, ...change });
      expect(failures).toEqual([{ property, reason: expect.stringMatching(reason) }]);
      expect(JSON.stringify(failures)).not.toContain(SECRET);
    });

    test("an empty objectUrls with allowEmpty starts no job", async () => {
      const { id, outs } = await provider.create(await checked({ ...base, objectUrls: [], allowEmpty: true, ...keys }));
      expect(id).toBe("no-job");
      expect(outs).toMatchObject({ state: "Skipped", jobId: "" });
      expect(lines.join("\n")).toContain("objectUrls is empty; no job started (allowEmpty)");
      expect(accepted()).toEqual([]);
    });
  });

  test("a job's report may name an object by its URL, bucket/key or key: each is the same file to the lost-answer search", () => {
    const detail = (fileName: string) => [{ fileName, state: "Completed" as const, progress: 100 }];
    for (const name of ["s3://b/in/a.json", "b/in/a.json", "in/a.json"]) expect(sameFiles(detail(name), [["s3://b/in/a.json"]])).toBe("yes");
    expect(sameFiles(detail("b/in/x/1.json"), [["s3://b/in/x/"]])).toBe("yes");
    expect(sameFiles(detail("in/other.json"), [["s3://b/in/a.json"]])).toBe("no");
  });

  test("a service that quotes the keys back: the refusal and the failure lose them", () => {
    const inputs = { ...base, objectUrls: [["s3://b/k.json"]], ...keys };
    const refused = refusedCreate(
      new ZillizApiError({ status: 200, apiCode: 1100, apiMessage: `access denied for key ${ACCESS} / ${SECRET}`, call: "import create" }),
      inputs,
    );
    expect(refused.message).toMatch(/access denied for key \[redacted\] \/ \[redacted\].*Check accessKey and secretKey/);
    expect(refused.message).not.toContain(SECRET);
    expect(refused.cause).toBeUndefined();
    const failed = namedFailure(
      new ZillizImportError({
        jobId: "job-1",
        report: { state: "Failed", progress: 0, reason: `s3://b/k.json: bad secret ${SECRET}` },
        details: [{ fileName: "s3://b/k.json", state: "Failed", progress: 0, reason: `secret ${SECRET}` }],
        message: `job job-1 Failed: s3://b/k.json: bad secret ${SECRET}`,
      }),
      inputs,
    );
    expect(JSON.stringify([failed.message, failed.report, failed.details])).not.toContain(SECRET);
    expect(failed.message).toContain("The input to fix: objectUrls[0][0] (s3://b/k.json).");
    expect(failed.cause).toBeUndefined();
  });
});
