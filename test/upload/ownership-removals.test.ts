// A removal deletes only what the resource still owns alone: an object
// another resource took over stays (named, with whose it is now), and one it
// shares only loses this resource's token, so the other owner keeps every
// byte. Driven through executeUpload against the emulator; the owner set
// each object carries is read back over S3.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import type { ObjectOwner } from "../../provider/upload/object-metadata";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";

const PREFIX = "stages/p/up/data/";
const A: ObjectOwner = { token: "tok-a", urn: "urn:pulumi:dev::p::t::a" };
const B: ObjectOwner = { token: "tok-b", urn: "urn:pulumi:staging::p::t::b" };

describe("removals leave what another resource owns", () => {
  let emu: Emulator;
  let client: StageClient;
  let dirA: string;
  let dirB: string;
  let notices: string[];

  beforeEach(async () => {
    emu = await startEmulator();
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
    dirA = await mkTmp();
    dirB = await mkTmp();
    notices = [];
  });
  afterEach(async () => {
    await client.close();
    await emu.stop();
    await rmTmp(dirA);
    await rmTmp(dirB);
  });

  /** One resource's run over `dir`: scan, plan against `known`, execute as `owner`. */
  async function run(dir: string, owner: ObjectOwner, known?: Manifest, takeOver = false) {
    const scan = await scanSource(dir);
    const plan = planChanges(known, scan.manifest);
    const outcome = await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: plan.delete, known, owner, takeOver },
      { targets: client, onNotice: (line) => notices.push(line) },
    );
    // What the state records next: the manifest, with the stamps the run read.
    const manifest: Manifest = Object.create(null);
    for (const [rel, entry] of Object.entries(scan.manifest)) manifest[rel] = { ...entry, stamp: outcome.stamps.get(rel) };
    return { manifest, outcome };
  }
  /** relative path -> [owner tokens, owner URN, content] as the store holds them. */
  const store = async () => {
    const out: Record<string, [string | undefined, string | undefined, string]> = {};
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const o of emu.listObjects(PREFIX)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: o.key }));
        const urn = head.Metadata?.["owner-urn"];
        out[o.key.slice(PREFIX.length)] = [head.Metadata?.owner, urn && decodeURIComponent(urn), (await emu.readObject(o.key)).toString()];
      }
    } finally {
      s3.destroy();
    }
    return out;
  };

  test("objects another resource took over are not removed: named (five, then a count) with whose they are now", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 7; i++) files[`f${i}.json`] = `a ${i}`;
    await writeTree(dirA, files);
    const { manifest } = await run(dirA, A);
    const theirs: Record<string, string> = {};
    for (let i = 0; i < 7; i++) theirs[`f${i}.json`] = `b ${i}`;
    await writeTree(dirB, theirs);
    await run(dirB, B, undefined, true);
    // A's next update removes every file it had.
    for (const rel of Object.keys(files)) await fs.rm(path.join(dirA, rel));
    await writeTree(dirA, { "other.json": "o" });
    notices = [];
    const { outcome } = await run(dirA, A, manifest);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.released).toEqual(Object.keys(files).sort());
    expect(notices).toEqual([`not removing 7 object(s) another resource took over (${B.urn}): f0.json, f1.json, f2.json, f3.json, f4.json, and 2 more`]);
    const after = await store();
    for (let i = 0; i < 7; i++) expect(after[`f${i}.json`]).toEqual(["tok-b", B.urn, `b ${i}`]);
  });

  test("a shared object removed by the one that joined it: the first owner keeps it, alone, its URN forgotten with the joiner's", async () => {
    await writeTree(dirA, { "ü é (1).json": "same", "a-only.json": "a" });
    await run(dirA, A);
    await writeTree(dirB, { "ü é (1).json": "same" });
    const b = await run(dirB, B);
    expect((await store())["ü é (1).json"]).toEqual(["tok-b tok-a", B.urn, "same"]);
    await fs.rm(path.join(dirB, "ü é (1).json"));
    await writeTree(dirB, { "b-only.json": "b" });
    notices = [];
    const { outcome } = await run(dirB, B, b.manifest);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.released).toEqual(["ü é (1).json"]);
    expect(notices).toEqual([
      "not removing 1 object(s) other resources also own (same content; they keep them, this resource no longer owns them): ü é (1).json",
    ]);
    expect(await store()).toEqual({
      "a-only.json": ["tok-a", A.urn, "a"],
      "b-only.json": ["tok-b", B.urn, "b"],
      "ü é (1).json": ["tok-a", undefined, "same"],
    });
  });

  test("a shared object removed by its first owner: the one that joined keeps it, alone, with its URN", async () => {
    await writeTree(dirA, { "s.json": "same", "a-only.json": "a" });
    const a = await run(dirA, A);
    await writeTree(dirB, { "s.json": "same" });
    await run(dirB, B);
    await fs.rm(path.join(dirA, "s.json"));
    const { outcome } = await run(dirA, A, a.manifest);
    expect(outcome.released).toEqual(["s.json"]);
    expect((await store())["s.json"]).toEqual(["tok-b", B.urn, "same"]);
  });

  test("control: an object this resource owns alone is removed", async () => {
    await writeTree(dirA, { "a.json": "a", "b.json": "b" });
    const a = await run(dirA, A);
    await fs.rm(path.join(dirA, "a.json"));
    const { outcome } = await run(dirA, A, a.manifest);
    expect(outcome.deleted).toEqual(["a.json"]);
    expect(outcome.released).toEqual([]);
    expect(Object.keys(await store())).toEqual(["b.json"]);
  });
});
