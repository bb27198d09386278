// Whose object a planned key holds, decided before the first byte moves: two
// resources' runs on one path, driven through executeUpload against the
// emulator. Another resource's object with the planned content is joined
// (both own it), with other content refused (nothing written) unless
// takeOver; our own, or our earlier token's, is adopted. The owner set each
// object carries is read back from the store.
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizValidationError } from "../../provider/errors";
import { executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { PENDING_SHA256 } from "../../provider/upload/manifest";
import type { ObjectOwner } from "../../provider/upload/object-metadata";
import { writeTree } from "../helpers/fs";
import { withUploadStage } from "../helpers/upload-stage";
import { stageS3 } from "../helpers/s3";

const PREFIX = "stages/p/up/data/";
const A: ObjectOwner = { token: "tok-a", urn: "urn:pulumi:dev::p::t::a" };
const B: ObjectOwner = { token: "tok-b", urn: "urn:pulumi:staging::p::t::b" };

describe("recovery decides whose objects the planned keys hold", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let notices: string[];

  withUploadStage((s) => ({ emu, client, dir, notices } = s));

  /** One resource's run: scan, plan against `known`, execute as `owner`. */
  async function run(owner: ObjectOwner | undefined, known?: Manifest, opts: { takeOver?: boolean; only?: string[] } = {}) {
    const scan = await scanSource(dir);
    const plan = planChanges(known, scan.manifest);
    const outcome = await executeUpload(
      {
        stageName: "up",
        path: "data/",
        root: scan.root,
        manifest: scan.manifest,
        upload: opts.only ?? plan.upload,
        delete: opts.only ? [] : plan.delete,
        known,
        owner,
        takeOver: opts.takeOver,
      },
      { targets: client, onNotice: (line) => notices.push(line) },
    );
    return { manifest: scan.manifest, outcome };
  }
  /** relative path -> [owner tokens, content] as the store holds them. */
  const store = async () => {
    const out: Record<string, [string | undefined, string]> = {};
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const o of emu.listObjects(PREFIX)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: o.key }));
        out[o.key.slice(PREFIX.length)] = [head.Metadata?.owner, (await emu.readObject(o.key)).toString()];
      }
    } finally {
      s3.destroy();
    }
    return out;
  };
  const writes = () => emu.requests().filter((r) => ["s3:put", "s3:complete", "s3:delete", "s3:deleteMany"].includes(r.kind));

  test("another resource's object with the planned content is joined: not sent again, both own it, the notice names the other", async () => {
    await writeTree(dir, { "a.json": "same", "b.json": "mine" });
    await run(A, undefined, { only: ["a.json"] });
    emu.clearRequests();
    const { outcome } = await run(B);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["b.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-b tok-a", "same"], "b.json": ["tok-b", "mine"] });
    // Shared: no stamp, so a later removal looks at the owner set instead of deleting.
    expect(outcome.stamps.has("a.json")).toBe(false);
    expect(notices).toEqual([expect.stringMatching(new RegExp(`^now co-owns 1 object\\(s\\) with the planned content with ${A.urn} .*\\(a\\.json\\)$`))]);
  });

  test("another resource's objects with other content: refused before any write, naming the keys and the owner; nothing changes", async () => {
    const theirs: Record<string, string> = {};
    for (let i = 0; i < 6; i++) theirs[`f${i}.json`] = `theirs ${i}`;
    await writeTree(dir, theirs);
    await run(A);
    const before = await store();
    const ours: Record<string, string> = {};
    for (let i = 0; i < 6; i++) ours[`f${i}.json`] = `ours ${i}`;
    await writeTree(dir, ours);
    emu.clearRequests();
    const err = await run(B).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toContain(
      `6 planned file(s) are already in the objects of another resource (${A.urn}) with different content: f0.json, f1.json, f2.json, f3.json, f4.json, and 1 more. Nothing was written.`,
    );
    expect((err as Error).message).toMatch(/set `takeOver: true`/);
    expect(writes()).toEqual([]);
    expect(await store()).toEqual(before);
  });

  test("one conflicting object: the refusal says 'object', once", async () => {
    await writeTree(dir, { "a.json": "theirs" });
    await run(A);
    await writeTree(dir, { "a.json": "ours!!" });
    const err = await run(B).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`1 planned file(s) are already in the object of another resource (${A.urn}) with different content: a.json. Nothing was written.`);
  });

  test("takeOver: the other's object is overwritten, ours alone afterwards, and the notice says whose it was", async () => {
    await writeTree(dir, { "a.json": "theirs" });
    await run(A);
    await writeTree(dir, { "a.json": "ours!!" });
    const { outcome } = await run(B, undefined, { takeOver: true });
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-b", "ours!!"] });
    expect(notices).toEqual([expect.stringMatching(new RegExp(`^overwriting 1 object\\(s\\) of ${A.urn} because takeOver is set \\(a\\.json\\)$`))]);
  });

  test("an object we share, changed on our side: refused, saying it is shared; the other keeps its content", async () => {
    await writeTree(dir, { "a.json": "same" });
    await run(A);
    const { manifest } = await run(B);
    expect(await store()).toEqual({ "a.json": ["tok-b tok-a", "same"] });
    await writeTree(dir, { "a.json": "changed" });
    const err = await run(B, manifest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toMatch(/1 of them this resource shares with that resource/);
    expect(await store()).toEqual({ "a.json": ["tok-b tok-a", "same"] });
  });

  test("our own object an interrupted run sent: adopted with the LastModified it has as its stamp, no mark rewritten", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    await run(A, undefined, { only: ["a.json"] });
    emu.clearRequests();
    const { outcome } = await run(A);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["b.json"]);
    expect(outcome.stamps.get("a.json")).toEqual(expect.any(Number));
    // Only b.json was written: a.json got neither its bytes nor a new mark (a CopyObject is a PUT).
    expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.key)).toEqual([PREFIX + "b.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "a"], "b.json": ["tok-a", "b"] });
  });

  test("our object under an earlier token (same URN: lost state, --replace): adopted and marked with the new token alone", async () => {
    await writeTree(dir, { "a.json": "a" });
    await run({ token: "tok-old", urn: A.urn }, undefined);
    notices = [];
    const { outcome } = await run(A);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "a"] });
    // Ours alone again: stamped, so a removal needs no HEAD.
    expect(outcome.stamps.has("a.json")).toBe(true);
    expect(notices).toEqual([expect.stringMatching(/^adopted 1 object\(s\) already in the stage/)]);
  });

  test("an unmarked object with the planned content (0.1.0, another tool) is adopted and marked ours", async () => {
    await writeTree(dir, { "a.json": "a" });
    await run(undefined);
    expect(await store()).toEqual({ "a.json": [undefined, "a"] });
    const { outcome } = await run(A);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "a"] });
  });

  test("an unmarked old version the state records is replaced without a notice; an unrecorded one is reported", async () => {
    await writeTree(dir, { "known.json": "v1", "stray.json": "s1" });
    const { manifest } = await run(undefined, undefined, { only: ["known.json", "stray.json"] });
    const known: Manifest = Object.assign(Object.create(null), { "known.json": manifest["known.json"] });
    await writeTree(dir, { "known.json": "v2", "stray.json": "s2" });
    notices = [];
    const { outcome } = await run(A, known);
    expect(outcome.uploaded).toEqual(["known.json", "stray.json"]);
    expect(notices).toEqual([expect.stringMatching(/^replacing 1 object\(s\) this resource did not record whose content differs from the local file \(stray\.json\)$/)]);
    expect(await store()).toEqual({ "known.json": ["tok-a", "v2"], "stray.json": ["tok-a", "s2"] });
  });

  test("an owned first upload of many files: one listing to look, one to read every stamp, no HEAD per file", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, "0")}.json`] = `${i}`;
    await writeTree(dir, files);
    const { outcome } = await run(A);
    expect(outcome.uploaded).toHaveLength(30);
    expect([...outcome.stamps.keys()].sort()).toEqual(Object.keys(files).sort());
    for (const at of outcome.stamps.values()) expect(Number.isFinite(at)).toBe(true);
    expect(emu.requests().filter((r) => r.kind === "s3:list")).toHaveLength(2);
    expect(emu.requests().filter((r) => r.kind === "s3:head")).toEqual([]);
  });

  test("the notice names five of the adopted objects and counts the rest", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`f${i}.json`] = `${i}`;
    await writeTree(dir, files);
    await run(A, undefined, { only: Object.keys(files) });
    notices = [];
    const { outcome } = await run(A);
    expect(outcome.adopted).toEqual(Object.keys(files).sort());
    expect(notices).toEqual([
      "adopted 8 object(s) already in the stage with the planned size and SHA-256, not sent again (f0.json, f1.json, f2.json, f3.json, f4.json, and 3 more)",
    ]);
  });

  test("refused over five objects of two resources: the field is path, both URNs are named, the keys in path order and none counted", async () => {
    const C: ObjectOwner = { token: "tok-c", urn: "urn:pulumi:dev::p::t::c" };
    const theirs: Record<string, string> = {};
    for (let i = 0; i < 5; i++) theirs[`f${i}.json`] = `theirs ${i}`;
    await writeTree(dir, theirs);
    await run(A, undefined, { only: ["f0.json", "f1.json", "f2.json"] });
    await run(C, undefined, { only: ["f3.json", "f4.json"] });
    for (let i = 0; i < 5; i++) theirs[`f${i}.json`] = `ours ${i}!`;
    await writeTree(dir, theirs);
    // The first HEAD answers last: the keys come back out of path order.
    emu.faults.add({ target: "s3:head", count: 1, delayMs: 300 });
    const err = await run(B).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as ZillizValidationError).field).toBe("path");
    expect((err as Error).message).toContain(
      `5 planned file(s) are already in the objects of another resource (${A.urn}, ${C.urn}) with different content: f0.json, f1.json, f2.json, f3.json, f4.json. Nothing was written.`,
    );
  });

  test("an owner that recorded no URN (a program of an earlier version): the refusal names an unknown resource", async () => {
    await writeTree(dir, { "a.json": "theirs" });
    await run({ token: "tok-x", urn: "" });
    await writeTree(dir, { "a.json": "ours!!" });
    const err = await run(B).catch((e: unknown) => e);
    expect((err as Error).message).toContain("1 planned file(s) are already in the object of another resource (an unknown resource) with different content: a.json.");
    expect(await store()).toEqual({ "a.json": ["tok-x", "theirs"] });
  });

  test("objects of four resources and an unmarked one, all with the planned content: one notice, adoptions then joins, three URNs and five keys in path order", async () => {
    const C: ObjectOwner = { token: "tok-c", urn: "urn:pulumi:dev::p::t::c" };
    const D: ObjectOwner = { token: "tok-d", urn: "urn:pulumi:dev::p::t::d" };
    const E: ObjectOwner = { token: "tok-e", urn: "urn:pulumi:dev::p::t::e" };
    await writeTree(dir, { "a1.json": "1", "a2.json": "2", "b.json": "b", "c.json": "c", "d.json": "d", "e.json": "e" });
    await run(A, undefined, { only: ["a1.json", "a2.json"] });
    await run(B, undefined, { only: ["b.json"] });
    await run(C, undefined, { only: ["c.json"] });
    await run(D, undefined, { only: ["d.json"] });
    await run(undefined, undefined, { only: ["e.json"] });
    notices = [];
    emu.clearRequests();
    emu.faults.add({ target: "s3:head", count: 1, delayMs: 300 });
    const { outcome } = await run(E);
    expect(outcome.adopted).toEqual(["a1.json", "a2.json", "b.json", "c.json", "d.json", "e.json"]);
    expect(outcome.uploaded).toEqual([]);
    expect(notices).toEqual([
      "adopted 1 object(s) already in the stage with the planned size and SHA-256, not sent again (e.json); " +
        `now co-owns 5 object(s) with the planned content with ${A.urn}, ${B.urn}, ${C.urn} (a renamed or replaced resource, or another stack); ` +
        "a delete of either leaves them to the other (a1.json, a2.json, b.json, c.json, d.json)",
    ]);
    expect(await store()).toEqual({
      "a1.json": ["tok-e tok-a", "1"],
      "a2.json": ["tok-e tok-a", "2"],
      "b.json": ["tok-e tok-b", "b"],
      "c.json": ["tok-e tok-c", "c"],
      "d.json": ["tok-e tok-d", "d"],
      "e.json": ["tok-e", "e"],
    });
  });

  test("an object we already share, met again after our state was lost: adopted as it is, no mark rewritten, no stamp, not reported as joined", async () => {
    await writeTree(dir, { "a.json": "same" });
    await run(A);
    await run(B);
    expect(await store()).toEqual({ "a.json": ["tok-b tok-a", "same"] });
    notices = [];
    emu.clearRequests();
    const { outcome } = await run(B);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.stamps.has("a.json")).toBe(false);
    expect(emu.requests().filter((r) => r.kind === "s3:put")).toEqual([]);
    expect(notices).toEqual([expect.stringMatching(/^adopted 1 object\(s\) already in the stage with the planned size and SHA-256, not sent again \(a\.json\)$/)]);
    expect(await store()).toEqual({ "a.json": ["tok-b tok-a", "same"] });
  });

  test("our object under an earlier token with other content: replaced by the upload without a notice (it was ours)", async () => {
    await writeTree(dir, { "a.json": "a" });
    await run({ token: "tok-old", urn: A.urn });
    await writeTree(dir, { "a.json": "new" });
    notices = [];
    const { outcome } = await run(A);
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(notices).toEqual([]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "new"] });
  });

  test("a run without an owner (state from before owners) adopts a marked object with the planned content and leaves its mark", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    await run(A, undefined, { only: ["a.json"] });
    emu.clearRequests();
    const { outcome } = await run(undefined);
    expect(outcome.adopted).toEqual(["a.json"]);
    expect(outcome.uploaded).toEqual(["b.json"]);
    expect(emu.requests().filter((r) => r.kind === "s3:put").map((r) => r.key)).toEqual([PREFIX + "b.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "a"], "b.json": [undefined, "b"] });
  });

  test("many files the state stamped, changed: one listing, a HEAD only for the one another resource took over since, which refuses the run", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, "0")}.json`] = `v${String(i).padStart(2, "0")}`;
    await writeTree(dir, files);
    const first = await run(A);
    const known: Manifest = Object.create(null);
    for (const [rel, entry] of Object.entries(first.manifest)) known[rel] = { ...entry, stamp: first.outcome.stamps.get(rel) };
    expect(Object.values(known).every((e) => e.stamp !== undefined)).toBe(true);
    // B overwrites f00.json with content of the same size: only its LastModified tells.
    await writeTree(dir, { "f00.json": "b00" });
    await run(B, undefined, { only: ["f00.json"], takeOver: true });
    for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, "0")}.json`] = `w${String(i).padStart(2, "0")}`;
    await writeTree(dir, files);
    emu.clearRequests();
    const err = await run(A, known).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect((err as Error).message).toContain(`1 planned file(s) are already in the object of another resource (${B.urn}) with different content: f00.json.`);
    expect(emu.requests().filter((r) => r.kind === "s3:list")).toHaveLength(1);
    expect(emu.requests().filter((r) => r.kind === "s3:head").map((r) => r.key)).toEqual([PREFIX + "f00.json"]);
    expect(writes()).toEqual([]);
  });

  test("an update of our own file with new content sends it: the store holds the new bytes, not the old ones adopted", async () => {
    await writeTree(dir, { "a.json": "old", "b.json": "b" });
    const { manifest } = await run(A);
    await writeTree(dir, { "a.json": "new" });
    const { outcome } = await run(A, manifest);
    expect(outcome.adopted).toEqual([]);
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(await store()).toEqual({ "a.json": ["tok-a", "new"], "b.json": ["tok-a", "b"] });
  });

  test("an entry whose digest is pending (hashed as sent) is never joined or adopted on its strength: another's object is refused, an unmarked one replaced", async () => {
    await writeTree(dir, { "a.json": "same", "b.json": "same too" });
    await run(A, undefined, { only: ["a.json"] });
    // B plans a.json with the same bytes but its digest not read yet (as an object source's small object bound for a key
    // it saw free): a race with A's write must not let B join A's object without knowing the content.
    const scan = await scanSource(dir);
    const manifest: Manifest = Object.create(null);
    for (const rel of Object.keys(scan.manifest)) manifest[rel] = { ...scan.manifest[rel], sha256: PENDING_SHA256 };
    emu.clearRequests();
    await expect(
      executeUpload({ stageName: "up", path: "data/", root: scan.root, manifest, upload: ["a.json", "b.json"], delete: [], owner: B }, { targets: client, onNotice: (line) => notices.push(line) }),
    ).rejects.toThrow(ZillizValidationError);
    expect(writes()).toEqual([]);
    expect((await store())["a.json"]).toEqual(["tok-a", "same"]);
    // A run without owners (an earlier version's caller) ignores marks: it sends again, never adopts, and fills the digest in from what it sent.
    const unmarked = await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest, upload: ["a.json", "b.json"], delete: [], owner: undefined },
      { targets: client, onNotice: (line) => notices.push(line) },
    );
    expect(unmarked.adopted).toEqual([]);
    expect(unmarked.uploaded).toEqual(["a.json", "b.json"]);
    expect(manifest["a.json"].sha256).toBe(scan.manifest["a.json"].sha256);
    expect(manifest["b.json"].sha256).toBe(scan.manifest["b.json"].sha256);

    // Another tool's object whose sha256 metadata is empty, the very value a pending digest holds: not adopted either.
    const { s3, target } = await stageS3(client, "up");
    try {
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}a.json`, Body: "same", Metadata: { sha256: "" } }));
    } finally {
      s3.destroy();
    }
    manifest["a.json"].sha256 = PENDING_SHA256;
    const again = await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest, upload: ["a.json"], delete: [], owner: B },
      { targets: client, onNotice: (line) => notices.push(line) },
    );
    expect(again.adopted).toEqual([]);
    expect(again.uploaded).toEqual(["a.json"]);
    expect((await store())["a.json"]).toEqual(["tok-b", "same"]);
  });
});
