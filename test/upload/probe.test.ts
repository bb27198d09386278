// What the store holds under a path, asked the two ways S3 offers (one
// listing, or a HEAD per key), against the emulator: which way the rule
// picks, what each request costs, what a missing object and a refused one
// are, and the LastModified an owned run reads back as each file's stamp.
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoreError } from "../../provider/errors";
import { executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { UploadTargetCache } from "../../provider/upload/credentials";
import type { ObjectOwner } from "../../provider/upload/object-metadata";
import { headObject, listingPays, listObjects, observeStamps, type ProbeRequests } from "../../provider/upload/probe";
import { StoreSession } from "../../provider/upload/session";
import { writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { withUploadStage } from "../helpers/upload-stage";

const PREFIX = "stages/p/up/data/";
const A: ObjectOwner = { token: "tok-a", urn: "urn:pulumi:dev::p::t::a" };

describe("looking at the store: one listing or a HEAD per key", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let session: StoreSession;

  withUploadStage((s) => ({ emu, client, dir } = s));
  beforeEach(async () => {
    // One request at a time: the HEADs come back in the order they were asked.
    session = new StoreSession(new UploadTargetCache(client, { stageName: "up", path: "data/" }), { concurrency: 1, requestTimeoutMs: 10_000 });
    expect((await session.targets.get()).prefix + "data/").toBe(PREFIX);
  });
  afterEach(() => session.close());

  /** Puts `files` under data/ with an ordinary S3 client; `meta` as user metadata. */
  async function put(files: Record<string, string>, meta?: Record<string, string>): Promise<void> {
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const [rel, body] of Object.entries(files)) await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel, Body: body, Metadata: meta }));
    } finally {
      s3.destroy();
    }
  }
  /** relative path -> LastModified (ms), as a HEAD of each shows it. */
  async function headStamps(rels: string[]): Promise<Map<string, number>> {
    const { s3, target } = await stageS3(client, "up");
    const out = new Map<string, number>();
    try {
      for (const rel of rels) out.set(rel, (await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel }))).LastModified!.getTime());
    } finally {
      s3.destroy();
    }
    return out;
  }
  /** relative path -> LastModified (ms), as one listing shows it. */
  async function listedStamps(): Promise<Map<string, number>> {
    const { s3, target } = await stageS3(client, "up");
    try {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: PREFIX }));
      return new Map((page.Contents ?? []).map((o) => [o.Key!.slice(PREFIX.length), o.LastModified!.getTime()]));
    } finally {
      s3.destroy();
    }
  }
  const s3Requests = () => emu.requests().filter((r) => r.kind.startsWith("s3:"));
  const kinds = () => s3Requests().map((r) => r.kind);
  const files = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${String(i).padStart(2, "0")}.json`, `${i}`]));

  test("the rule: a HEAD each up to ten keys per page the listing would take, a listing past that", () => {
    // One page (up to 999 other objects besides the one the listing counts): ten keys are HEADed, eleven listed.
    expect(listingPays(10, 0)).toBe(false);
    expect(listingPays(11, 0)).toBe(true);
    expect(listingPays(1, 0)).toBe(false);
    expect(listingPays(11, 998)).toBe(true);
    expect(listingPays(11, 999)).toBe(true);
    // A thousand objects take two pages: twenty HEADs are cheaper than two LISTs, twenty-one are not.
    expect(listingPays(11, 1000)).toBe(false);
    expect(listingPays(20, 1000)).toBe(false);
    expect(listingPays(21, 1000)).toBe(true);
    expect(listingPays(30, 2999)).toBe(false);
    expect(listingPays(31, 2999)).toBe(true);
  });

  test("observeStamps for ten keys: one HEAD each, no listing; a key with no object is left out", async () => {
    const all = files(10);
    await put(all);
    const rels = Object.keys(all).reverse();
    rels[4] = "missing.json";
    emu.clearRequests();
    const requests: ProbeRequests = { list: 0, head: 0 };
    const stamps = await observeStamps(session, PREFIX, rels, 10, requests);
    expect(requests).toEqual({ list: 0, head: 10 });
    expect(kinds()).toEqual(Array(10).fill("s3:head"));
    expect(s3Requests().map((r) => r.key)).toEqual(rels.map((rel) => PREFIX + rel));
    const present = rels.filter((rel) => rel !== "missing.json");
    // The LastModified each object has, as a HEAD of it shows.
    expect(new Map([...stamps].sort())).toEqual(new Map([...(await headStamps(present))].sort()));
  });

  test("observeStamps for eleven keys: one listing, no HEAD; a key with no object is left out", async () => {
    const all = files(12);
    await put(all);
    const rels = Object.keys(all).slice(1);
    rels[3] = "missing.json";
    emu.clearRequests();
    const requests: ProbeRequests = { list: 0, head: 0 };
    const stamps = await observeStamps(session, PREFIX, rels, 12, requests);
    expect(requests).toEqual({ list: 1, head: 0 });
    expect(kinds()).toEqual(["s3:list"]);
    const listed = await listedStamps();
    expect(new Map([...stamps].sort())).toEqual(new Map(rels.filter((r) => r !== "missing.json").map((rel) => [rel, listed.get(rel)!])));
  });

  test("observeStamps for eleven keys of a path of a thousand objects: two pages would cost more than eleven HEADs", async () => {
    await put(files(11));
    emu.clearRequests();
    const requests: ProbeRequests = { list: 0, head: 0 };
    const stamps = await observeStamps(session, PREFIX, Object.keys(files(11)), 1000, requests);
    expect(requests).toEqual({ list: 0, head: 11 });
    expect(stamps.size).toBe(11);
  });

  test("observeStamps of nothing asks nothing", async () => {
    const requests: ProbeRequests = { list: 0, head: 0 };
    expect(await observeStamps(session, PREFIX, [], 5000, requests)).toEqual(new Map());
    expect(requests).toEqual({ list: 0, head: 0 });
    expect(kinds()).toEqual([]);
  });

  /** The bench's directory, planned against `known`, executed as owner A. */
  async function runOwned(known?: Manifest) {
    const scan = await scanSource(dir);
    const plan = planChanges(known, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete, known, owner: A },
      { targets: client },
    );
    return { manifest: scan.manifest, outcome };
  }

  test("an owned update of two files of many reads back their two stamps with one HEAD each: the LastModified the store has", async () => {
    await writeTree(dir, files(30));
    const first = await runOwned();
    await writeTree(dir, { "f03.json": "three", "f17.json": "seventeen" });
    emu.clearRequests();
    const { outcome } = await runOwned(first.manifest);
    expect(outcome.uploaded).toEqual(["f03.json", "f17.json"]);
    const reqs = s3Requests();
    let lastPut = reqs.length;
    while (lastPut > 0 && reqs[lastPut - 1].kind !== "s3:put") lastPut--;
    expect(reqs.slice(lastPut).map((r) => `${r.kind} ${r.key}`).sort()).toEqual([`s3:head ${PREFIX}f03.json`, `s3:head ${PREFIX}f17.json`]);
    expect(kinds().filter((k) => k === "s3:list")).toEqual([]);
    expect(outcome.stamps).toEqual(await headStamps(["f03.json", "f17.json"]));
  });

  test("headObject: what the object says (size, LastModified, SHA-256, owners, ETag), undefined when there is none", async () => {
    await put({ "a.json": "hello" }, { sha256: "ab".repeat(32), owner: "tok-b tok-a", "owner-urn": encodeURIComponent("urn:pulumi:x::p::t::b") });
    const requests: ProbeRequests = { list: 0, head: 0 };
    const seen = await headObject(session, PREFIX + "a.json", "a.json", requests);
    const [etag] = emu.listObjects(PREFIX).map((o) => `"${o.etag}"`);
    expect(seen).toEqual({
      size: 5,
      lastModified: (await headStamps(["a.json"])).get("a.json"),
      sha256: "ab".repeat(32),
      owner: { tokens: ["tok-b", "tok-a"], urn: "urn:pulumi:x::p::t::b" },
      etag,
    });
    expect(await headObject(session, PREFIX + "none.json", "none.json", requests)).toBeUndefined();
    expect(await headObject(session, PREFIX + "none.json", "none.json")).toBeUndefined();
    expect(requests).toEqual({ list: 0, head: 2 });
  });

  test("a HEAD the store refuses is an error naming the request, not a missing object", async () => {
    // A key outside the stage's prefix: the temporary credentials do not reach it (403 AccessDenied).
    const err = await headObject(session, "stages/p/other/x.json", "x.json").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizStoreError);
    expect(err).toMatchObject({ status: 403, operation: "HeadObject x.json" });
    // A store failing every attempt: the retries end with its error, never "no object".
    emu.faults.add({ target: "s3:head", status: 500, count: 10 });
    const failing = new StoreSession(new UploadTargetCache(client, { stageName: "up", path: "data/" }), { concurrency: 1, requestTimeoutMs: 10_000, maxAttempts: 2 });
    try {
      const err500 = await headObject(failing, PREFIX + "a.json", "a.json").catch((e: unknown) => e);
      expect(err500).toBeInstanceOf(ZillizStoreError);
      expect(err500).toMatchObject({ status: 500, operation: "HeadObject a.json" });
    } finally {
      failing.close();
      emu.faults.clear();
    }
  });

  test("a HEAD or a listing the store stalls is cut off as soon as the run must stop, not when the socket times out", async () => {
    await put({ "a.json": "a" });
    for (const [target, look] of [
      ["s3:head", (stopping: StoreSession) => headObject(stopping, PREFIX + "a.json", "a.json")],
      ["s3:list", (stopping: StoreSession) => listObjects(stopping, PREFIX)],
    ] as const) {
      emu.faults.add({ target, count: 1, mode: "stall" });
      const stop = new AbortController();
      const stopping = new StoreSession(new UploadTargetCache(client, { stageName: "up", path: "data/" }), {
        concurrency: 1,
        requestTimeoutMs: 60_000,
        signal: stop.signal,
      });
      try {
        const started = Date.now();
        const looking = look(stopping).then(
          () => "answered",
          () => "cut off",
        );
        while (!emu.requests().some((r) => r.kind === target)) await new Promise((r) => setTimeout(r, 10));
        stop.abort(new Error("the provider is stopping"));
        expect(await looking).toBe("cut off");
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        stopping.close();
        emu.faults.clear();
      }
    }
  });

  test("listObjects: every object under the prefix, relative, with its size and LastModified; one request a page", async () => {
    await put({ "a.json": "aa", "sub/b c+d.json": "bbb" });
    await put({ "x.json": "x" }, undefined);
    const requests: ProbeRequests = { list: 0, head: 0 };
    const listed = await listObjects(session, PREFIX + "", requests);
    const stamps = await listedStamps();
    expect(listed).toEqual(
      new Map([
        ["a.json", { size: 2, lastModified: stamps.get("a.json") }],
        ["sub/b c+d.json", { size: 3, lastModified: stamps.get("sub/b c+d.json") }],
        ["x.json", { size: 1, lastModified: stamps.get("x.json") }],
      ]),
    );
    expect(requests).toEqual({ list: 1, head: 0 });
    expect(await listObjects(session, PREFIX)).toEqual(listed);
  });

  test("a listing the store refuses is an error naming the request", async () => {
    const err = await listObjects(session, "stages/p/other/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizStoreError);
    expect(err).toMatchObject({ status: 403, operation: "ListObjectsV2 stages/p/other/" });
  });

  test("a listing page that says more follows but gives no token is refused: a destroy or a look that stopped there would miss objects", async () => {
    // A store that ignores list-type=2 and answers in the ListObjectsV1 form (IsTruncated, no token).
    const s3 = await session.s3();
    s3.send = (async () => ({ IsTruncated: true, Contents: [{ Key: `${PREFIX}a.json`, Size: 1, LastModified: new Date() }] })) as typeof s3.send;
    const err = await listObjects(session, PREFIX).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizStoreError);
    expect((err as Error).message).toMatch(/ListObjectsV2 stages\/p\/up\/data\/ said the listing goes on but gave no continuation token/);
  });
});
