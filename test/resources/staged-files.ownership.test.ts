// Who owns an object: the files provider against the emulator, driven the
// way the engine drives it for a rename, a --replace, two stacks on one
// path, objects written by another tool, and file names JavaScript treats
// specially. What the store holds is read back over S3 after each step.
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Emulator } from "../../provider/emulator";
import { StageClient } from "../../provider/client";
import { ZillizValidationError } from "../../provider/errors";
import { decodeManifest, encodeManifest, manifestPaths } from "../../provider/upload";
import { providerOnEmulator } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { putObjects, stageS3 } from "../helpers/s3";
import { objectsUnder } from "../helpers/stage";
import { promises as fs } from "node:fs";
import * as path from "node:path";

const PREFIX = "stages/proj-1/raw/";
const URN_A = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::files";
const URN_B = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::batch";
const URN_STAGING = "urn:pulumi:staging::proj::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::files";

type State = { id: string; inputs: Record<string, any>; outs: Record<string, any> };

describe("StagedFiles ownership", () => {
  let emu: Emulator;
  let dirA: string;
  let dirB: string;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  let said: string[];

  /** What the stage holds, relative to the stage: path -> bytes as text. */
  const staged = () => objectsUnder(emu, PREFIX);

  /** The owner mark of each object under the stage: path -> token. */
  async function owners(): Promise<Record<string, string | undefined>> {
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    const { s3, target } = await stageS3(client, "raw");
    const out: Record<string, string | undefined> = Object.create(null);
    try {
      for (const obj of emu.listObjects(PREFIX)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: obj.key }));
        out[obj.key.slice(PREFIX.length)] = head.Metadata?.owner;
      }
    } finally {
      s3.destroy();
    }
    return out;
  }

  async function create(source: string, args: Record<string, unknown>): Promise<State> {
    const checked = await provider.check({}, { stageName: "raw", source, path: "data", ...args });
    expect(checked.failures).toEqual([]);
    const created = await provider.create(checked.inputs);
    return { id: created.id, inputs: checked.inputs, outs: created.outs };
  }

  async function update(olds: State, source: string, args: Record<string, unknown>): Promise<State> {
    const checked = await provider.check(olds.inputs, { stageName: "raw", source, path: "data", ...args });
    expect(checked.failures).toEqual([]);
    const diff = await provider.diff(olds.id, olds.outs, checked.inputs);
    if (!diff.changes) return { ...olds, inputs: checked.inputs };
    const updated = await provider.update(olds.id, olds.outs, checked.inputs);
    return { id: olds.id, inputs: checked.inputs, outs: updated.outs };
  }

  const writes = () => emu.requests().filter((r) => r.kind.startsWith("s3:") && !["s3:head", "s3:list", "s3:get", "s3:listUploads"].includes(r.kind));

  beforeEach(async () => {
    ({ emu, provider, said, close } = await providerOnEmulator("stagedFiles", { stage: { projectId: "proj-1", stageName: "raw" } }));
    dirA = await mkTmp();
    dirB = await mkTmp();
  });
  afterEach(async () => {
    await close();
    await rmTmp(dirA);
    await rmTmp(dirB);
  });

  test("rename: the new resource takes the objects over, the old one's delete leaves all of them", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two", "3.json": "three" });
    const a = await create(dirA, { ownerUrn: URN_A });
    expect(a.outs.ownerToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Object.values(await owners())).toEqual([a.outs.ownerToken, a.outs.ownerToken, a.outs.ownerToken]);

    // The engine creates the new resource before it deletes the old one.
    emu.clearRequests();
    const b = await create(dirA, { ownerUrn: URN_B });
    expect(b.outs.ownerToken).not.toBe(a.outs.ownerToken);
    expect(emu.requests().filter((r) => r.kind === "s3:put" && r.bytes > 0)).toEqual([]); // nothing sent again
    expect(said.join("\n")).toMatch(/now co-owns 3 object\(s\) with the planned content with urn:pulumi:dev::proj::.*::files/);
    expect(Object.values(await owners())).toEqual(Array(3).fill(`${b.outs.ownerToken} ${a.outs.ownerToken}`));
    await provider.delete(a.id, a.outs);
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two", "data/3.json": "three" });
    expect(Object.values(await owners())).toEqual([b.outs.ownerToken, b.outs.ownerToken, b.outs.ownerToken]);
    expect(said.join("\n")).toMatch(/left 3 object\(s\) other resources also own/);

    // A URN that changes alone (a parent or alias added) is no change; the next update records it.
    const moved = await provider.check(b.inputs, { stageName: "raw", source: dirA, path: "data", ownerUrn: `${URN_B}-moved` });
    expect((await provider.diff(b.id, b.outs, moved.inputs)).changes).toBe(false);
    await writeTree(dirA, { "4.json": "four" });
    const b2 = await update(b, dirA, { ownerUrn: `${URN_B}-moved` });
    expect(b2.outs).toMatchObject({ ownerToken: b.outs.ownerToken, ownerUrn: `${URN_B}-moved` });

    await provider.delete(b2.id, b2.outs);
    expect(await staged()).toEqual({});
  });

  test("--replace (same URN, new resource first): the objects stay, owned by the new one", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two", "3.json": "three" });
    const old = await create(dirA, { ownerUrn: URN_A });
    const replacement = await create(dirA, { ownerUrn: URN_A });
    await provider.delete(old.id, old.outs);
    expect(Object.keys(await staged()).sort()).toEqual(["data/1.json", "data/2.json", "data/3.json"]);
    expect(new Set(Object.values(await owners()))).toEqual(new Set([replacement.outs.ownerToken]));
  });

  test("two stacks, different content: refused before any write, naming the key and the other URN; takeOver overwrites", async () => {
    await writeTree(dirA, { "1.json": "dev one", "2.json": "two" });
    await writeTree(dirB, { "1.json": "staging one", "2.json": "two" });
    const dev = await create(dirA, { ownerUrn: URN_A });

    emu.clearRequests();
    const checked = await provider.check({}, { stageName: "raw", source: dirB, path: "data", ownerUrn: URN_STAGING });
    const err = await provider.create(checked.inputs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/1 planned file\(s\) .*another resource \(urn:pulumi:dev::proj::.*::files\) with different content: 1\.json/);
    expect((err as Error).message).toMatch(/different `path`.*`takeOver: true`/);
    expect(writes()).toEqual([]);
    expect(await staged()).toEqual({ "data/1.json": "dev one", "data/2.json": "two" });

    const staging = await create(dirB, { ownerUrn: URN_STAGING, takeOver: true });
    expect(await staged()).toEqual({ "data/1.json": "staging one", "data/2.json": "two" });
    expect(said.join("\n")).toMatch(/overwriting 1 object\(s\) of urn:pulumi:dev::.*because takeOver is set \(1\.json\)/);
    // 1.json is staging's alone now; 2.json, the same in both, both own.
    expect(await owners()).toEqual({ "data/1.json": staging.outs.ownerToken, "data/2.json": `${staging.outs.ownerToken} ${dev.outs.ownerToken}` });

    // dev's refresh shows what staging took over as drift; dev's destroy leaves staging's objects.
    const refreshed = await provider.read(dev.id, dev.outs);
    expect(manifestPaths(refreshed.props!.manifest)).toEqual(["2.json"]);
    expect(said.join("\n")).toMatch(/1 object\(s\) now owned by urn:pulumi:staging::/);
    await provider.delete(dev.id, dev.outs);
    expect(await staged()).toEqual({ "data/1.json": "staging one", "data/2.json": "two" });
    await provider.delete(staging.id, staging.outs);
    expect(await staged()).toEqual({});
  });

  test("two stacks, same content: co-owned, and the first one's update and destroy leave them to the other", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two" });
    await writeTree(dirB, { "1.json": "one" });
    const dev = await create(dirA, { ownerUrn: URN_A });
    const staging = await create(dirB, { ownerUrn: URN_STAGING });
    expect((await owners())["data/1.json"]).toBe(`${staging.outs.ownerToken} ${dev.outs.ownerToken}`);
    expect((await owners())["data/2.json"]).toBe(dev.outs.ownerToken);

    // dev removes 1.json locally: its update does not delete staging's object.
    await fs.rm(path.join(dirA, "1.json"));
    const updated = await update(dev, dirA, { ownerUrn: URN_A });
    expect(manifestPaths(updated.outs.manifest)).toEqual(["2.json"]);
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two" });
    expect(said.join("\n")).toMatch(/not removing 1 object\(s\) other resources also own/);
    expect((await owners())["data/1.json"]).toBe(staging.outs.ownerToken);
    await provider.delete(updated.id, updated.outs);
    expect(await staged()).toEqual({ "data/1.json": "one" });
    await provider.delete(staging.id, staging.outs);
    expect(await staged()).toEqual({});
  });

  test("two stacks, same content, the one that joined destroyed first: every object stays, owned by the first", async () => {
    // Enough files that the destroy lists the path and trusts stamps: the joiner must have none for what it shares.
    const tree: Record<string, string> = {};
    for (let i = 0; i < 12; i++) tree[`f${String(i).padStart(2, "0")}.json`] = `file ${i}`;
    const all = Object.keys(tree).sort();
    const expected = Object.fromEntries(all.map((rel) => [`data/${rel}`, tree[rel]]));
    await writeTree(dirA, tree);
    await writeTree(dirB, tree);
    const dev = await create(dirA, { ownerUrn: URN_A });
    const staging = await create(dirB, { ownerUrn: URN_STAGING });
    expect(Object.values(await owners())).toEqual(Array(12).fill(`${staging.outs.ownerToken} ${dev.outs.ownerToken}`));

    // Both still record every file: a refresh of either drops nothing.
    for (const side of [dev, staging]) {
      const refreshed = await provider.read(side.id, side.outs);
      expect(manifestPaths(refreshed.props!.manifest)).toEqual(all);
    }

    emu.clearRequests();
    await provider.delete(staging.id, staging.outs);
    expect(emu.requests().filter((r) => r.kind === "s3:list")).toHaveLength(1);
    expect({ ...(await staged()) }).toEqual(expected);
    expect(Object.values(await owners())).toEqual(Array(12).fill(dev.outs.ownerToken));
    const refreshed = await provider.read(dev.id, dev.outs);
    expect(manifestPaths(refreshed.props!.manifest)).toEqual(all);
    await provider.delete(dev.id, dev.outs);
    expect(await staged()).toEqual({});
  });

  test("two stacks, same content, the first destroyed first: every object stays, owned by the one that joined", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two", "3.json": "three" });
    await writeTree(dirB, { "1.json": "one", "2.json": "two", "3.json": "three" });
    const dev = await create(dirA, { ownerUrn: URN_A });
    const staging = await create(dirB, { ownerUrn: URN_STAGING });
    await provider.delete(dev.id, dev.outs);
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two", "data/3.json": "three" });
    expect(Object.values(await owners())).toEqual(Array(3).fill(staging.outs.ownerToken));
    await provider.delete(staging.id, staging.outs);
    expect(await staged()).toEqual({});
  });

  test("a co-owned object changed by one side: refused, saying it is shared, before any write; takeOver makes it that side's alone", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two" });
    await writeTree(dirB, { "1.json": "one", "2.json": "two" });
    const dev = await create(dirA, { ownerUrn: URN_A });
    const staging = await create(dirB, { ownerUrn: URN_STAGING });

    await writeTree(dirA, { "1.json": "one, changed by dev" });
    emu.clearRequests();
    const checked = await provider.check(dev.inputs, { stageName: "raw", source: dirA, path: "data", ownerUrn: URN_A });
    const err = await provider.update(dev.id, dev.outs, checked.inputs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/1 planned file\(s\) .*another resource \(urn:pulumi:staging::proj::.*::files\) with different content: 1\.json/);
    expect((err as Error).message).toMatch(/1 of them this resource shares with that resource/);
    expect(writes()).toEqual([]);
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two" });

    const taken = await update(dev, dirA, { ownerUrn: URN_A, takeOver: true });
    expect(await staged()).toEqual({ "data/1.json": "one, changed by dev", "data/2.json": "two" });
    expect(await owners()).toEqual({
      "data/1.json": dev.outs.ownerToken,
      "data/2.json": `${staging.outs.ownerToken} ${dev.outs.ownerToken}`,
    });
    // staging's refresh shows 1.json as drift; its destroy leaves dev's objects, dev's removes them.
    const refreshed = await provider.read(staging.id, staging.outs);
    expect(manifestPaths(refreshed.props!.manifest)).toEqual(["2.json"]);
    await provider.delete(staging.id, refreshed.props);
    expect(await staged()).toEqual({ "data/1.json": "one, changed by dev", "data/2.json": "two" });
    await provider.delete(taken.id, taken.outs);
    expect(await staged()).toEqual({});
  });

  test("an object already shared by 16 resources: a 17th is refused clearly, nothing written", async () => {
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    const { s3, target } = await stageS3(client, "raw");
    const sha256 = createHash("sha256").update("one").digest("hex");
    const sixteen = Array.from({ length: 16 }, (_, i) => `tok${String(i).padStart(19, "0")}`).join(" ");
    await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}data/1.json`, Body: "one", Metadata: { sha256, owner: sixteen } }));
    s3.destroy();
    await writeTree(dirA, { "1.json": "one" });
    emu.clearRequests();
    const checked = await provider.check({}, { stageName: "raw", source: dirA, path: "data", ownerUrn: URN_A });
    const err = await provider.create(checked.inputs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/1\.json is already shared by 16 resources.*2 KB.*different `path`/);
    expect(writes()).toEqual([]);
    expect((await owners())["data/1.json"]).toBe(sixteen);
  });

  test("objects another tool wrote (no owner mark): adopted and marked when the same, replaced when not, deleted as before", async () => {
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    // As 0.1.0 wrote it: its SHA-256, no owner.
    const { s3, target } = await stageS3(client, "raw");
    const sha256 = createHash("sha256").update("one").digest("hex");
    await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}data/1.json`, Body: "one", Metadata: { sha256 } }));
    s3.destroy();
    await putObjects(client, "raw", { "data/2.json": "other tool" });
    await writeTree(dirA, { "1.json": "one", "2.json": "two" });
    const a = await create(dirA, { ownerUrn: URN_A });
    expect(await staged()).toEqual({ "data/1.json": "one", "data/2.json": "two" });
    expect(await owners()).toEqual({ "data/1.json": a.outs.ownerToken, "data/2.json": a.outs.ownerToken });
    expect(said.join("\n")).toMatch(/adopted 1 object\(s\).*\(1\.json\).*replacing 1 object\(s\) this resource did not record.*\(2\.json\)/);

    // Another tool rewrites one without a mark: destroy still removes it, as before owners.
    await putObjects(client, "raw", { "data/2.json": "rewritten" });
    await provider.delete(a.id, a.outs);
    expect(await staged()).toEqual({});
  });

  test("a destroy of many files lists the path and HEADs only what moved since its stamp", async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 40; i++) tree[`f${i}.json`] = `file ${i}`;
    await writeTree(dirA, tree);
    const a = await create(dirA, { ownerUrn: URN_A });
    const manifest = decodeManifest(a.outs.manifest);
    expect(Object.values(manifest).every((e) => typeof e.stamp === "number")).toBe(true);
    // Another tool rewrites two of them, another stack takes two over: only those four need a HEAD.
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    await putObjects(client, "raw", { "data/f1.json": "x", "data/f2.json": "y" });
    await writeTree(dirB, { "f3.json": "file 3", "f4.json": "file 4" });
    await create(dirB, { ownerUrn: URN_STAGING });
    emu.clearRequests();
    await provider.delete(a.id, a.outs);
    expect(emu.requests().filter((r) => r.kind === "s3:list")).toHaveLength(1);
    expect(emu.requests().filter((r) => r.kind === "s3:head").map((r) => r.key!.slice(PREFIX.length)).sort()).toEqual([
      "data/f1.json",
      "data/f2.json",
      "data/f3.json",
      "data/f4.json",
    ]);
    expect({ ...(await staged()) }).toEqual({ "data/f3.json": "file 3", "data/f4.json": "file 4" });
  });

  test("a destroy of several pages deletes each page's own files while the next page is listed, and leaves a shared one", async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 2500; i++) tree[`f${String(i).padStart(4, "0")}.json`] = `file ${i}`;
    // Listed URL-encoded (a space comes back as "+"): still found, still deleted.
    tree["a b+c%20.json"] = "odd name";
    await writeTree(dirA, tree);
    const a = await create(dirA, { ownerUrn: URN_A });
    // Another tool rewrites one (unmarked: still deleted, after its HEAD); another stack shares one.
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    await putObjects(client, "raw", { "data/f1200.json": "rewritten" });
    await client.close();
    await writeTree(dirB, { "f2100.json": "file 2100" });
    const b = await create(dirB, { ownerUrn: URN_STAGING });
    emu.clearRequests();
    await provider.delete(a.id, a.outs);
    // In the order the emulator received them (its log is in order of answer).
    const kinds = emu
      .requests()
      .filter((r) => r.kind === "s3:list" || r.kind === "s3:deleteMany")
      .sort((x, y) => x.startedMs! - y.startedMs!)
      .map((r) => r.kind);
    expect(kinds.filter((k) => k === "s3:list")).toHaveLength(3);
    expect(kinds.filter((k) => k === "s3:deleteMany")).toHaveLength(3);
    // The first page's batch went out before the last page was asked for.
    expect(kinds.indexOf("s3:deleteMany")).toBeLessThan(kinds.lastIndexOf("s3:list"));
    expect({ ...(await staged()) }).toEqual({ "data/f2100.json": "file 2100" });
    expect(await owners()).toEqual({ "data/f2100.json": b.outs.ownerToken });
  });

  test("state without ownerToken or stamps (the release before owners) still updates and destroys", async () => {
    await writeTree(dirA, { "1.json": "one", "2.json": "two" });
    const a = await create(dirA, { ownerUrn: URN_A });
    // As that release wrote it: zm1 manifest, no token.
    const outs = { ...a.outs };
    delete outs.ownerToken;
    delete outs.ownerUrn;
    const plain = decodeManifest(outs.manifest);
    for (const rel of Object.keys(plain)) delete plain[rel].stamp;
    outs.manifest = encodeManifest(plain).replace(/^zm2:/, "zm1:");
    const old: State = { ...a, outs };
    // Objects from that release carry no mark.
    const client = new StageClient({ apiKey: emu.apiKey, endpoint: emu.url });
    await putObjects(client, "raw", { "data/1.json": "one", "data/2.json": "two" });

    await writeTree(dirA, { "2.json": "two, changed", "3.json": "three" });
    await fs.rm(path.join(dirA, "1.json"));
    const updated = await update(old, dirA, { ownerUrn: URN_A });
    expect(updated.outs.ownerToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await staged()).toEqual({ "data/2.json": "two, changed", "data/3.json": "three" });
    await provider.delete(old.id, updated.outs);
    expect(await staged()).toEqual({});
  });

  test("file names that are members of Object.prototype: create, update, delete locally, refresh, destroy", async () => {
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty"];
    await writeTree(dirA, Object.fromEntries([...names.map((n) => [n, `v1 ${n}`]), ["plain.json", "p"]]));
    const a = await create(dirA, { ownerUrn: URN_A });
    const expected = (version: string, list: string[]) => Object.fromEntries(list.map((n) => [`data/${n}`, `${version} ${n}`]));
    expect({ ...(await staged()) }).toEqual({ ...expected("v1", names), "data/plain.json": "p" });
    expect(manifestPaths(a.outs.manifest)).toEqual([...names, "plain.json"].sort());

    // Update: change two, delete two locally.
    await writeTree(dirA, { toString: "v2 toString" });
    await fs.writeFile(path.join(dirA, "__proto__"), "v2 __proto__");
    await fs.rm(path.join(dirA, "constructor"));
    await fs.rm(path.join(dirA, "hasOwnProperty"));
    const b = await update(a, dirA, { ownerUrn: URN_A });
    expect({ ...(await staged()) }).toEqual({ "data/__proto__": "v2 __proto__", "data/toString": "v2 toString", "data/plain.json": "p" });
    expect(manifestPaths(b.outs.manifest)).toEqual(["__proto__", "plain.json", "toString"]);

    // Refresh: one removed behind Pulumi's back is drift, the rest stays.
    const { s3, target } = await stageS3(new StageClient({ apiKey: emu.apiKey, endpoint: emu.url }), "raw");
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    await s3.send(new DeleteObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}data/toString` }));
    s3.destroy();
    const refreshed = await provider.read(b.id, b.outs);
    expect(manifestPaths(refreshed.props!.manifest)).toEqual(["__proto__", "plain.json"]);

    // The next update sends it again; destroy removes every one.
    const c = await update({ ...b, outs: refreshed.props! }, dirA, { ownerUrn: URN_A });
    expect(manifestPaths(c.outs.manifest)).toEqual(["__proto__", "plain.json", "toString"]);
    expect({ ...(await staged()) }).toEqual({ "data/__proto__": "v2 __proto__", "data/toString": "v2 toString", "data/plain.json": "p" });
    await provider.delete(c.id, c.outs);
    expect({ ...(await staged()) }).toEqual({});
  });
});
