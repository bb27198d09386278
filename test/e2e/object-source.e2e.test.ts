// Files from another object store under the real Pulumi CLI: Volume ->
// VolumeFiles (source s3://lake/books/ on gofakes3, a third-party S3 server
// built from its Go module) -> ImportJob -> MergeJob against the emulator,
// the destination collection's rows checked. A recording proxy in front of
// gofakes3 shows what a preview and a no-op up read of the source: a
// listing, no object.
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startEmulator, Emulator } from "../../provider/emulator";
import { inspectCollection, parquetColumns } from "../helpers/merge";
import { startS3Proxy, type S3Proxy } from "../helpers/s3-proxy";

// Plain JS shared with `npm run demo` and the benchmarks.
const { createWorkspace } = require("../../scripts/workspace");
const { startGofakes3 } = require("../../scripts/gofakes3") as { startGofakes3: (bucket: string) => Promise<{ url: string; stop: () => Promise<void> }> };

jest.setTimeout(10 * 60_000);

const SOURCE_KEY = "AKIDLAKEKEY";
const SOURCE_SECRET = "lake-secret-never-shown";

describe("VolumeFiles from s3:// end to end under the Pulumi CLI", () => {
  let emu: Emulator;
  let fake: { url: string; stop: () => Promise<void> };
  let proxy: S3Proxy;
  let ws: any;
  const pulumi = (args: string[], opts?: object) => ws.must(args, opts);
  const objectReads = () => proxy.seen.filter((r) => r.method === "GET" && !/[?&]list-type=2/.test(r.url));

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-emulator/books"] });
    fake = await startGofakes3("lake");
    proxy = await startS3Proxy(fake.url);
    const src = new S3Client({ endpoint: fake.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    const ids = Array.from({ length: 40 }, (_, i) => i);
    const objects: Record<string, Buffer> = {
      "books/books.parquet": await parquetColumns({ id: { type: "INT64", data: ids.map(BigInt) }, title: { type: "STRING", data: ids.map((i) => `book ${i}`) } }),
      "books/genres.parquet": await parquetColumns({
        id: { type: "INT64", data: ids.filter((i) => i % 4 === 0).map(BigInt) },
        genre: { type: "STRING", data: ids.filter((i) => i % 4 === 0).map((i) => `genre ${i}`) },
        rating: { type: "DOUBLE", data: ids.filter((i) => i % 4 === 0).map((i) => i / 10) },
      }),
      "other/ignored.json": Buffer.from("{}"),
    };
    for (const [Key, Body] of Object.entries(objects)) await src.send(new PutObjectCommand({ Bucket: "lake", Key, Body, ContentLength: Body.length }));
    src.destroy();
    // The source's credentials as CI keeps them: in the environment, nowhere in the program or its config.
    ws = createWorkspace(path.join(__dirname, "merge-program"), { env: { AWS_ACCESS_KEY_ID: SOURCE_KEY, AWS_SECRET_ACCESS_KEY: SOURCE_SECRET, AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" } });
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "volumeName", "e2e_lake"]);
    await pulumi(["config", "set", "source", "s3://lake/books/"]);
    await pulumi(["config", "set", "sourceEndpoint", proxy.url]);
    await pulumi(["config", "set", "destCollectionName", "books_lake"]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await proxy?.close();
    await fake?.stop();
    await emu?.stop();
  });

  test("1. up copies the bucket's folder into the volume, imports one file and merges the other", async () => {
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout + up.stderr).toMatch(/SUCCESSFUL: collection books_lake created/);
    const volumeFiles = emu.listObjects().filter((o) => o.key.includes("incoming/")).map((o) => o.key.replace(/^.*incoming\//, ""));
    expect(volumeFiles.sort()).toEqual(["books.parquet", "genres.parquet"]);
    const page = (await inspectCollection(emu, "in01-emulator/default/books_lake"))!;
    expect(page.rowCount).toBe(40);
    const byId = new Map(page.rows.map((r) => [r.id, r]));
    expect(byId.get(8)).toEqual({ id: 8, title: "book 8", genre: "genre 8", rating: 0.8 });
    expect(byId.get(9)).toEqual({ id: 9, title: "book 9", genre: null, rating: null });
  });

  test("2. a preview and a no-op up list the source and read no object", async () => {
    proxy.seen.length = 0;
    const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout) as { steps: { op: string }[] };
    expect(preview.steps.filter((s) => s.op !== "same")).toEqual([]);
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(objectReads()).toEqual([]);
    expect(emu.requests().filter((r) => r.kind === "merge:create" && r.code === 0)).toHaveLength(1);
  });

  test("3. the source's credentials are in neither the state nor the output; destroy removes the copies", async () => {
    expect(ws.transcript()).not.toContain(SOURCE_SECRET);
    expect(ws.transcript()).not.toContain(emu.apiKey);
    // Secrets shown: the source's credentials must not be there at all, encrypted or not.
    const state = (await pulumi(["stack", "export", "--show-secrets"])).stdout;
    expect(state).not.toContain(SOURCE_SECRET);
    expect(state).not.toContain(SOURCE_KEY);
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual([]);
  });
});
