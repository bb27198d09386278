// Imports from object URLs in the emulator, over real HTTP with the SDKs'
// body: the objects are read from another S3 server, signed with the keys
// the import carries. gofakes3 (a third-party server) sits behind a proxy
// that checks SigV4 with one key pair; a second emulator checks signature,
// session token and expiry itself, for short-term keys.
import { createServer } from "node:net";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { API_ERROR_CODES } from "../../provider/client/api-codes";
import { IMPORT_JOB_PATHS, importJobProgressSchema, type ImportJobProgress } from "../../provider/client/import-schemas";
import { Emulator, EmulatorOptions, startEmulator } from "../../provider/emulator";
import { OBJECT_URL_REGION } from "../../provider/emulator/object-urls";
import { jsonRows, parquet } from "../helpers/data-files";
import { mkTmp, rmTmp } from "../helpers/fs";
import { putObjects } from "../helpers/s3";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy";
import { sigV4Gate } from "../helpers/signing-gate";
const { startGofakes3 } = require("../../scripts/gofakes3") as { startGofakes3: (bucket: string) => Promise<{ url: string; stop: () => Promise<void> }> };

const CLUSTER = "in01-emulator";
const ACCESS = "AKIDEMULATORTEST";
const SECRET = "emulator-test-secret-key";

describe("import jobs from object URLs", () => {
  let fake: { url: string; stop(): Promise<void> };
  let proxy: S3Proxy;
  let dataDir: string;
  let emu: Emulator | undefined;
  let slowReadsMs = 0;

  beforeAll(async () => {
    fake = await startGofakes3("user-bucket");
    proxy = await startS3Proxy(fake.url);
    const checkSignature = sigV4Gate(ACCESS, SECRET);
    proxy.gate = async (req) => {
      // A store a little slow to answer: long enough for a client to look while the rows are being stored.
      if (slowReadsMs > 0) await new Promise((r) => setTimeout(r, slowReadsMs));
      return checkSignature(req);
    };
    const src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    for (const [Key, body] of Object.entries({ "in/a.json": jsonRows(3), "in/b.parquet": await parquet(250) })) {
      const Body = Buffer.from(body);
      await src.send(new PutObjectCommand({ Bucket: "user-bucket", Key, Body, ContentLength: Body.length }));
    }
    src.destroy();
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await fake?.stop();
  });
  beforeEach(async () => {
    dataDir = await mkTmp();
  });
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
    await rmTmp(dataDir);
  });

  async function start(options: EmulatorOptions = {}): Promise<Emulator> {
    emu = await startEmulator({ dataDir, collections: [`${CLUSTER}/quickstart`], ...options });
    return emu;
  }
  async function call(method: string, pathname: string, body: unknown): Promise<{ code: number; message?: string; data?: any }> {
    const res = await fetch(emu!.url + pathname, { method, headers: { Authorization: `Bearer ${emu!.apiKey}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return (await res.json()) as { code: number; message?: string; data?: any };
  }
  /** A create as pymilvus sends it: every field, unset ones "" or null. */
  const create = (fields: Record<string, unknown>) =>
    call("POST", IMPORT_JOB_PATHS.create, {
      collectionName: "quickstart", dbName: "", partitionName: "", files: null, objectUrl: "", objectUrls: null, clusterId: CLUSTER, projectId: "",
      regionId: "", accessKey: ACCESS, secretKey: SECRET, token: "", volumeName: "", dataPaths: null, options: {}, ...fields,
    });
  async function ended(fields: Record<string, unknown>): Promise<ImportJobProgress> {
    const answer = await create(fields);
    expect(answer).toMatchObject({ code: 0, data: { jobId: expect.any(String) } });
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const p = importJobProgressSchema.parse((await call("POST", IMPORT_JOB_PATHS.describe, { clusterId: CLUSTER, jobId: answer.data.jobId })).data);
      if (p.state === "Completed" || p.state === "Failed") return p;
    }
    throw new Error("the job did not end");
  }
  async function rowCount(): Promise<number> {
    const res = await fetch(`${emu!.url}/__emulator/collections/${CLUSTER}/default/quickstart`, { headers: { Authorization: `Bearer ${emu!.apiKey}` } });
    return ((await res.json()) as { data: { rowCount: number } }).data.rowCount;
  }

  test("s3:// URLs are read at the endpoint the admin route names, signed with the import's keys; the keys never reach the data directory", async () => {
    await start();
    const none = await ended({ objectUrls: [["s3://user-bucket/in/a.json"]] });
    expect(none).toMatchObject({ state: "Failed", reason: expect.stringMatching(/no endpoint for s3:\/\/ URLs \(start it with --object-url-endpoint <url>, or PUT \/__emulator\/object-url-endpoint\)/) });

    expect(await call("PUT", "/__emulator/object-url-endpoint", { endpoint: proxy.url })).toMatchObject({ code: 0 });
    proxy.seen.length = 0;
    slowReadsMs = 200;
    const job = await ended({ objectUrls: [["s3://user-bucket/in/a.json"], ["s3://user-bucket/in/"]] }).finally(() => (slowReadsMs = 0));
    // The folder holds a.json too: 3 rows, then 3 + 250. Completed means stored: the rows are there as soon as it says so.
    expect(job).toMatchObject({ state: "Completed", importedRows: 256 });
    expect(job.details.map((d) => d.fileName)).toEqual(["s3://user-bucket/in/a.json", "s3://user-bucket/in/a.json", "s3://user-bucket/in/b.parquet"]);
    expect(await rowCount()).toBe(256);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((r) => r.accessKey === ACCESS && !r.refused)).toBe(true);
    const persisted = await fs.readFile(path.join(dataDir, "import-jobs.json"), "utf8");
    expect(persisted).not.toContain(SECRET);
    expect(persisted).not.toContain(ACCESS);
  });

  test("objectUrl, pymilvus's older single form, is one batch of one URL", async () => {
    await start({ objectUrlEndpoint: proxy.url });
    expect(await ended({ objectUrl: "s3://user-bucket/in/b.parquet" })).toMatchObject({ state: "Completed", importedRows: 250 });
  });

  test("a request the service would refuse is refused at create, naming the field", async () => {
    await start({ objectUrlEndpoint: proxy.url });
    const urls = { objectUrls: [["s3://user-bucket/in/a.json"]] };
    for (const [fields, code, message] of [
      [{ ...urls, volumeName: "raw" }, API_ERROR_CODES.malformedRequest, /objectUrls must not be given together with volumeName/],
      [{ ...urls, dataPaths: [["a.json"]] }, API_ERROR_CODES.malformedRequest, /dataPaths must not be given together with objectUrls/],
      [{ ...urls, secretKey: "" }, API_ERROR_CODES.malformedRequest, /secretKey is required with objectUrls/],
      [{ objectUrls: [["http://example.com/b/k.json"]] }, API_ERROR_CODES.malformedRequest, /objectUrls\.0\.0 must be an object URL/],
      [{ objectUrls: [["s3://b/1.parquet", "s3://b/2.parquet"]] }, API_ERROR_CODES.tooManyFilesInBatch, /objectUrls\[0\] holds/],
    ] as const) {
      const answer = await create(fields);
      expect(answer).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(answer.message).not.toContain(SECRET);
    }
  });

  test("the job fails with a reason, and no key, when the store refuses the keys, lacks the bucket or object, does not answer, or is out of reach", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    await start({ objectUrlEndpoint: proxy.url });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ objectUrls: [["s3://user-bucket/in/a.json"]], secretKey: "not-the-secret" }, /cannot read s3:\/\/user-bucket\/in\/a\.json: access denied \(SignatureDoesNotMatch\)/],
      [{ objectUrls: [["s3://user-bucket/in/a.json"]], accessKey: "AKIDSOMEONEELSE" }, /access denied \(InvalidAccessKeyId\)/],
      [{ objectUrls: [["s3://no-bucket/a.json"]] }, /cannot read s3:\/\/no-bucket\/a\.json: bucket no-bucket does not exist/],
      [{ objectUrls: [["s3://user-bucket/in/none.json"]] }, /file s3:\/\/user-bucket\/in\/none\.json does not exist in the bucket/],
      [{ objectUrls: [["s3://user-bucket/empty/"]] }, /folder s3:\/\/user-bucket\/empty\/ does not exist or is empty in the bucket/],
      [{ objectUrls: [["gs://user-bucket/in/a.json"]] }, /reads s3:\/\/ and http\(s\):\/\/ object URLs, not gs:\/\//],
      [{ objectUrls: [["https://example.com/user-bucket/a.json"]] }, /reads http\(s\) object URLs on 127\.0\.0\.1 or localhost only/],
    ];
    for (const [fields, reason] of cases) {
      const job = await ended(fields);
      expect(job).toMatchObject({ state: "Failed", reason: expect.stringMatching(reason) });
      expect(job.reason).not.toMatch(/not-the-secret|emulator-test-secret|AKID/);
    }
    emu!.setObjectUrlEndpoint(`http://127.0.0.1:${closed}`);
    const silent = await ended({ objectUrls: [["s3://user-bucket/in/a.json"]] });
    expect(silent.reason).toMatch(new RegExp(`the object store at http://127\\.0\\.0\\.1:${closed} did not answer \\(ECONNREFUSED\\)`));
  });

  test("short-term keys: the token is signed too, against a second emulator that checks signature, token and expiry", async () => {
    // The other emulator's region is the one object URLs are signed for.
    const store = await startEmulator({ region: OBJECT_URL_REGION });
    const client = new StageClient({ endpoint: store.url, apiKey: store.apiKey });
    try {
      await client.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "theirs" });
      await putObjects(client, "theirs", { "x.json": jsonRows(4) });
      const target = await client.applyUploadTarget({ stageName: "theirs", path: "" });
      await start({ objectUrlEndpoint: store.url });
      const { tmpAK, tmpSK, sessionToken } = target.credentials;
      const url = `s3://${target.bucketName}/${target.prefix}x.json`;
      expect(await ended({ objectUrls: [[url]], accessKey: tmpAK, secretKey: tmpSK, token: sessionToken })).toMatchObject({ state: "Completed", importedRows: 4 });
      expect(await ended({ objectUrls: [[url]], accessKey: tmpAK, secretKey: tmpSK })).toMatchObject({ state: "Failed", reason: expect.stringMatching(/access denied \(InvalidToken\)/) });
    } finally {
      await client.close();
      await store.stop();
    }
  });

  test("after a restart a job cannot read its objects again (the keys were only in memory) and fails saying so", async () => {
    await start({ objectUrlEndpoint: proxy.url, importRowsPerSecond: 50 });
    const answer = await create({ objectUrls: [["s3://user-bucket/in/b.parquet"]] });
    const jobId = answer.data.jobId as string;
    const describe = async () => importJobProgressSchema.parse((await call("POST", IMPORT_JOB_PATHS.describe, { clusterId: CLUSTER, jobId })).data);
    const deadline = Date.now() + 20_000;
    while ((await describe()).state !== "Importing" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await emu!.stop();
    await start({ objectUrlEndpoint: proxy.url, importRowsPerSecond: 5000 });
    let p = await describe();
    while (p.state === "Importing" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      p = await describe();
    }
    expect(p).toMatchObject({ state: "Failed", reason: expect.stringMatching(/restarted since this import was created and keeps no bucket keys on disk; start the import again/) });
  });
});
