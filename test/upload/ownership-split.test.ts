// splitOwned asked directly against the emulator: which of the objects a
// removal names are still this resource's to delete, which another resource
// took over or shares, which are gone; when the listing's size and
// LastModified are enough and when the owner mark must be read; and the two
// notices' words. Objects are written over S3 with the owner marks the
// engine writes, as another resource (or another tool) would leave them.
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { ZillizStoreError, ZillizValidationError } from "../../provider/errors";
import { Emulator } from "../../provider/emulator";
import type { ManifestEntry } from "../../provider/upload/manifest";
import { UploadTargetCache } from "../../provider/upload/credentials";
import type { ObjectOwner } from "../../provider/upload/object-metadata";
import { describeForeign, describeShared, joinOwners, markOwned, splitOwned, type SharedObject } from "../../provider/upload/ownership";
import { StoreSession } from "../../provider/upload/session";
import { stageS3 } from "../helpers/s3";
import { withUploadStage } from "../helpers/upload-stage";

const PREFIX = "stages/p/up/data/";
const A: ObjectOwner = { token: "tok-a", urn: "urn:pulumi:dev::p::t::a" };
const B: ObjectOwner = { token: "tok-b", urn: "urn:pulumi:staging::p::t::b" };
const C: ObjectOwner = { token: "tok-c", urn: "urn:pulumi:prod::p::t::c" };
const SHA = "cd".repeat(32);

describe("splitOwned: what a removal may delete", () => {
  let emu: Emulator;
  let client: StageClient;
  let session: StoreSession;

  withUploadStage((s) => ({ emu, client } = s));
  beforeEach(() => {
    // One request at a time: the HEADs answer in the order they were asked.
    session = new StoreSession(new UploadTargetCache(client, { stageName: "up", path: "data/" }), { concurrency: 1, requestTimeoutMs: 10_000 });
  });
  afterEach(() => session.close());

  /** Puts `rel` under data/ owned by `owners` (most recent first; none: unmarked), as the engine marks it. */
  async function put(rel: string, body: string, owners: ObjectOwner[] = [], urn = owners[0]?.urn): Promise<void> {
    const { s3, target } = await stageS3(client, "up");
    const Metadata: Record<string, string> = { sha256: SHA };
    if (owners.length) Metadata.owner = owners.map((o) => o.token).join(" ");
    if (urn) Metadata["owner-urn"] = encodeURIComponent(urn);
    try {
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel, Body: body, Metadata }));
    } finally {
      s3.destroy();
    }
  }
  /** relative path -> the manifest entry a resource that wrote it records: its size and the listing's LastModified. */
  async function stamped(): Promise<Map<string, ManifestEntry>> {
    const { s3, target } = await stageS3(client, "up");
    try {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: PREFIX }));
      return new Map((page.Contents ?? []).map((o) => [o.Key!.slice(PREFIX.length), { size: o.Size!, sha256: SHA, stamp: o.LastModified!.getTime() }]));
    } finally {
      s3.destroy();
    }
  }
  const heads = () => emu.requests().filter((r) => r.kind === "s3:head").map((r) => r.key!.slice(PREFIX.length));
  const lists = () => emu.requests().filter((r) => r.kind === "s3:list").length;

  test("ten keys asked in no order: a HEAD each, and every list comes back sorted, shared objects with the set they keep", async () => {
    await put("m-2.json", "ours", [A]);
    await put("m-1.json", "unmarked");
    await put("f-b.json", "b's", [B]);
    await put("f-c.json", "c's", [C]);
    await put("f-x.json", "a token without a URN", [{ token: "tok-x", urn: "" }]);
    await put("s-ab.json", "same", [A, B]);
    await put("s-ba.json", "same", [B, A]);
    await put("s-cab.json", "same", [C, A, B]);
    emu.clearRequests();
    const rels = ["m-2.json", "f-c.json", "s-ba.json", "g-2.json", "f-x.json", "s-ab.json", "m-1.json", "f-b.json", "g-1.json", "s-cab.json"];
    const split = await splitOwned(session, { prefix: PREFIX, rels, entry: () => undefined, owner: A, pathObjects: 8 });
    expect(lists()).toBe(0);
    expect(heads()).toEqual(rels);
    expect(split.requests).toEqual({ list: 0, head: 10 });
    expect(split.mine).toEqual(["m-1.json", "m-2.json"]);
    expect(split.gone).toEqual(["g-1.json", "g-2.json"]);
    expect(split.foreign).toEqual([
      { rel: "f-b.json", urn: B.urn },
      { rel: "f-c.json", urn: C.urn },
      { rel: "f-x.json", urn: "an unknown resource" },
    ]);
    const shared = (rel: string, tokens: string[], urn?: string): SharedObject => ({ rel, sha256: SHA, etag: expect.any(String), rest: { tokens, urn } });
    expect(split.shared).toEqual([
      // We were the most recent owner: the URN the object names is ours, and goes with us.
      shared("s-ab.json", ["tok-b"], undefined),
      shared("s-ba.json", ["tok-b"], B.urn),
      shared("s-cab.json", ["tok-c", "tok-b"], C.urn),
    ]);
  });

  test("state from before owners (no token of ours): any marked object is another's, an unmarked one ours", async () => {
    await put("unmarked.json", "x");
    await put("theirs.json", "y", [B]);
    await put("with-a.json", "z", [A, B]);
    const split = await splitOwned(session, { prefix: PREFIX, rels: ["with-a.json", "unmarked.json", "theirs.json"], entry: () => undefined, owner: undefined, pathObjects: 3 });
    expect(split.mine).toEqual(["unmarked.json"]);
    expect(split.shared).toEqual([]);
    expect(split.foreign).toEqual([
      { rel: "theirs.json", urn: B.urn },
      { rel: "with-a.json", urn: A.urn },
    ]);
  });

  test("a listing: objects as we stamped them are ours without a HEAD (heard page by page); moved, unrecorded or resized ones are HEADed", async () => {
    const ours: string[] = [];
    for (let i = 1; i <= 8; i++) {
      ours.push(`same-${i}.json`);
      await put(`same-${i}.json`, `ours ${i}`, [A]);
    }
    await put("resized.json", "our", [A]);
    await put("restamped.json", "ours", [A]);
    await put("unrecorded.json", "ours", [A]);
    await put("not-asked.json", "ours", [A]);
    // Since we stamped them, B took two of them over. S3's LastModified has whole seconds, so a rewrite
    // within the same second keeps it: resized.json shows our stamp with B's size; restamped.json our
    // size with a later LastModified.
    await put("resized.json", "b's!", [B]);
    await put("restamped.json", "b's!", [B]);
    const entries = await stamped();
    entries.set("resized.json", { ...entries.get("resized.json")!, size: 3 });
    entries.set("restamped.json", { ...entries.get("restamped.json")!, stamp: entries.get("restamped.json")!.stamp! - 1000 });
    entries.delete("unrecorded.json");
    emu.clearRequests();
    const rels = ["restamped.json", ...ours.slice().reverse(), "missing.json", "unrecorded.json", "resized.json"];
    const heard: string[][] = [];
    const run = { prefix: PREFIX, rels, entry: (rel: string) => entries.get(rel), owner: A, pathObjects: 13 };
    const split = await splitOwned(session, { ...run, onMine: (page) => heard.push(page) });
    expect(lists()).toBe(1);
    expect(heads().sort()).toEqual(["resized.json", "restamped.json", "unrecorded.json"]);
    expect(split.requests).toEqual({ list: 1, head: 3 });
    // Heard in the listing's (key) order, as the page arrived.
    expect(heard).toEqual([ours]);
    expect(split.mine).toEqual([...ours, "unrecorded.json"]);
    expect(split.foreign).toEqual([
      { rel: "resized.json", urn: B.urn },
      { rel: "restamped.json", urn: B.urn },
    ]);
    expect(split.gone).toEqual(["missing.json"]);
    expect(split.shared).toEqual([]);
    // The same without a listener.
    const quiet = await splitOwned(session, run);
    expect(quiet.mine).toEqual(split.mine);
  });

  test("a listing where nothing is as we stamped it: the listener hears nothing", async () => {
    const rels: string[] = [];
    for (let i = 0; i < 11; i++) {
      rels.push(`t-${i}.json`);
      await put(`t-${i}.json`, "theirs", [B]);
    }
    const heard: string[][] = [];
    const split = await splitOwned(session, { prefix: PREFIX, rels, entry: () => undefined, owner: A, pathObjects: 11, onMine: (page) => heard.push(page) });
    expect(split.requests).toEqual({ list: 1, head: 11 });
    expect(heard).toEqual([]);
    expect(split.mine).toEqual([]);
    expect(split.foreign).toHaveLength(11);
  });

  /** [owner tokens, owner URN, content, ETag] of `rel` as the store holds it. */
  async function held(rel: string): Promise<[string | undefined, string | undefined, string, string | undefined]> {
    const { s3, target } = await stageS3(client, "up");
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel }));
      const urn = head.Metadata?.["owner-urn"];
      return [head.Metadata?.owner, urn && decodeURIComponent(urn), (await emu.readObject(PREFIX + rel)).toString(), head.ETag];
    } finally {
      s3.destroy();
    }
  }

  test("markOwned rewrites the owner set of a key S3 wants encoded, bytes unchanged, and returns the new LastModified", async () => {
    const rel = "ü é+(1)*!'.json";
    await put(rel, "same", [A, B]);
    const [, , , etag] = await held(rel);
    const stamp = await markOwned(session, PREFIX + rel, rel, SHA, { tokens: ["tok-b"], urn: B.urn }, etag);
    const [tokens, urn, content] = await held(rel);
    expect([tokens, urn, content]).toEqual(["tok-b", B.urn, "same"]);
    expect(stamp).toBe((await stamped()).get(rel)!.stamp);
  });

  test("markOwned with the ETag an earlier HEAD saw is refused once the object was rewritten: the new bytes and mark stay", async () => {
    await put("s.json", "same", [A, B]);
    const [, , , etag] = await held("s.json");
    // Between our HEAD and our mark, C rewrites the object.
    await put("s.json", "c's own", [C]);
    const err = await markOwned(session, PREFIX + "s.json", "s.json", SHA, { tokens: ["tok-b"], urn: B.urn }, etag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizStoreError);
    expect(err).toMatchObject({ status: 412, storeCode: "PreconditionFailed", operation: "CopyObject s.json (owner mark)" });
    expect((await held("s.json")).slice(0, 3)).toEqual(["tok-c", C.urn, "c's own"]);
  });

  test("a mark the store stalls is cut off as soon as the run must stop", async () => {
    await put("s.json", "same", [A, B]);
    const [, , , etag] = await held("s.json");
    emu.faults.add({ target: "s3:put", count: 1, mode: "stall" });
    const stop = new AbortController();
    const stopping = new StoreSession(new UploadTargetCache(client, { stageName: "up", path: "data/" }), { concurrency: 1, requestTimeoutMs: 60_000, signal: stop.signal });
    try {
      emu.clearRequests();
      const started = Date.now();
      const marking = markOwned(stopping, PREFIX + "s.json", "s.json", SHA, { tokens: ["tok-b"], urn: B.urn }, etag).then(
        () => "answered",
        () => "cut off",
      );
      while (!emu.requests().some((r) => r.kind === "s3:put")) await new Promise((r) => setTimeout(r, 10));
      stop.abort(new Error("the provider is stopping"));
      expect(await marking).toBe("cut off");
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      stopping.close();
      emu.faults.clear();
    }
  });
});

describe("the notices of objects left in place", () => {
  const foreign = (n: number, urns: number) => Array.from({ length: n }, (_, i) => ({ rel: `f${i}.json`, urn: `urn:${i % urns}` }));
  const shared = (n: number): SharedObject[] => Array.from({ length: n }, (_, i) => ({ rel: `s${i}.json`, rest: { tokens: ["t"] } }));

  test("taken over: five keys then a count, three URNs then an ellipsis, thousands with a comma", () => {
    expect(describeForeign([], "left")).toBeUndefined();
    expect(describeForeign(foreign(5, 3), "left")).toBe("left 5 object(s) another resource took over (urn:0, urn:1, urn:2): f0.json, f1.json, f2.json, f3.json, f4.json");
    expect(describeForeign(foreign(6, 4), "not removing")).toBe(
      "not removing 6 object(s) another resource took over (urn:0, urn:1, urn:2, ...): f0.json, f1.json, f2.json, f3.json, f4.json, and 1 more",
    );
    expect(describeForeign(foreign(1234, 1), "left")).toMatch(/^left 1,234 object\(s\) another resource took over \(urn:0\): f0\.json, .*f4\.json, and 1229 more$/);
    expect(describeForeign(foreign(3, 3), "left", 2)).toBe("left 3 object(s) another resource took over (urn:0, urn:1, urn:2): f0.json, f1.json, and 1 more");
  });

  test("shared: five keys then a count", () => {
    expect(describeShared([], "left")).toBeUndefined();
    const words = "object(s) other resources also own (same content; they keep them, this resource no longer owns them)";
    expect(describeShared(shared(5), "left")).toBe(`left 5 ${words}: s0.json, s1.json, s2.json, s3.json, s4.json`);
    expect(describeShared(shared(6), "left")).toBe(`left 6 ${words}: s0.json, s1.json, s2.json, s3.json, s4.json, and 1 more`);
    expect(describeShared(shared(1500), "left")).toBe(`left 1,500 ${words}: s0.json, s1.json, s2.json, s3.json, s4.json, and 1495 more`);
  });
});

describe("joining an owner set: sixteen owners at most", () => {
  const others = (n: number) => Array.from({ length: n }, (_, i) => `tok-${i}`);

  test("a sixteenth owner joins; a seventeenth is refused, saying why", () => {
    expect(joinOwners({ tokens: others(15), urn: "urn:x" }, A, "a.json")).toEqual({ tokens: ["tok-a", ...others(15)], urn: A.urn });
    const err = (() => {
      try {
        return joinOwners({ tokens: others(16) }, A, "a.json");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/^path: a\.json is already shared by 16 resources with the same content, the most one object can record .* Nothing was written\./);
  });

  test("an owner already in a full set, or its earlier token, moves to the front without counting twice", () => {
    const full = others(15);
    expect(joinOwners({ tokens: [...full.slice(0, 7), "tok-a", ...full.slice(7)] }, A, "a.json")).toEqual({ tokens: ["tok-a", ...full], urn: A.urn });
    expect(joinOwners({ tokens: [...full, "tok-old"] }, A, "a.json", "tok-old").tokens).toEqual(["tok-a", ...full]);
    // No URN given (state of an earlier version): none recorded.
    expect(joinOwners({ tokens: ["tok-b"], urn: B.urn }, { token: "tok-a", urn: "" }, "a.json")).toEqual({ tokens: ["tok-a", "tok-b"], urn: undefined });
  });
});
