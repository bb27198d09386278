// What an interrupted run leaves, found by the next one against the emulator:
// objects that arrived but are in no state (adopted when size and recorded
// SHA-256 match, replaced and reported when not), incomplete multipart
// uploads at the resource's keys (aborted), and a stop mid-run (nothing new
// starts, the multipart upload in flight is aborted).
import { createHash, randomBytes } from "node:crypto";
import { CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoppedError, ZillizUploadError } from "../../provider/errors";
import { ExecuteOptions, executeUpload, Manifest, scanSource } from "../../provider/upload";
import { writeTree } from "../helpers/fs";
import { scanPlanExecute, withUploadStage } from "../helpers/upload-stage";
import { pendingUploads, stageS3 } from "../helpers/s3";

const PREFIX = "stages/p/up/data/";
const MiB = 1024 * 1024;
const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

describe("recovering what an interrupted run left", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let notices: string[];

  withUploadStage((s) => ({ emu, client, dir, notices } = s));

  /** Scan, plan against `known` (what the state records), execute; `only` narrows the uploads (an interrupted run). */
  const run = (known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}, only?: (rel: string) => boolean) =>
    scanPlanExecute({ emu, client, dir, notices }, known, opts, only);

  const requests = (kind: string) => emu.requests().filter((r) => r.kind === kind);
  const written = () =>
    emu
      .requests()
      .filter((r) => (r.kind === "s3:put" || r.kind === "s3:complete") && r.status === 200)
      .map((r) => r.key!.slice(PREFIX.length))
      .sort();

  test("every object carries its SHA-256, from a single PUT and from a multipart upload", async () => {
    const big = randomBytes(6 * MiB);
    await writeTree(dir, { "a.json": "{}", "big.bin": big });
    await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const [rel, content] of [["a.json", "{}"], ["big.bin", big]] as const) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel }));
        expect({ rel, sha256: head.Metadata?.sha256 }).toEqual({ rel, sha256: sha(content) });
      }
    } finally {
      s3.destroy();
    }
  });

  test("every object carries its owner's token and URN, from a single PUT and from a multipart upload", async () => {
    const big = randomBytes(6 * MiB);
    await writeTree(dir, { "a.json": "{}", "big.bin": big });
    const scan = await scanSource(dir);
    const owner = { token: "tok-123", urn: "urn:pulumi:dev::p::t::a b/é" };
    await executeUpload(
      { stageName: "up", path: "data/", root: scan.root, manifest: scan.manifest, upload: ["a.json", "big.bin"], delete: [], owner },
      { targets: client, multipartThreshold: 5 * MiB, partSize: 5 * MiB },
    );
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const rel of ["a.json", "big.bin"]) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel }));
        expect({ rel, owner: head.Metadata?.owner, urn: decodeURIComponent(head.Metadata?.["owner-urn"] ?? "") }).toEqual({ rel, owner: owner.token, urn: owner.urn });
      }
    } finally {
      s3.destroy();
    }
  });

  test("objects an interrupted run sent are adopted, not sent again, with one listing and a HEAD per object of the planned size", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 30; i++) files[`f${String(i).padStart(2, "0")}.bin`] = randomBytes(100 + i);
    files["big.bin"] = randomBytes(6 * MiB);
    await writeTree(dir, files);
    const big = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };
    // The interrupted run: a third of the files and the big one arrived, and no state recorded them.
    const first = await run(undefined, big, (rel) => rel === "big.bin" || Number(rel.slice(1, 3)) % 3 === 0);
    const arrived = first.outcome.uploaded;
    expect(arrived).toHaveLength(11);

    emu.clearRequests();
    const second = await run(undefined, big);
    expect(second.outcome.adopted).toEqual(arrived);
    const rest = Object.keys(files).filter((rel) => !arrived.includes(rel)).sort();
    expect(second.outcome.uploaded).toEqual(rest);
    expect(written()).toEqual(rest);
    expect(requests("s3:list")).toHaveLength(1);
    // Only the objects of a planned size were asked for their digest.
    expect(requests("s3:head").map((r) => r.key!.slice(PREFIX.length)).sort()).toEqual(arrived);
    expect(notices).toEqual([expect.stringMatching(/^adopted 11 object\(s\) already in the stage .*not sent again \(big\.bin, f00\.bin/)]);
    // Adopted and sent together are what the state records: every file, each intact.
    for (const rel of Object.keys(files)) expect((await emu.readObject(PREFIX + rel)).equals(files[rel])).toBe(true);
  });

  test("objects that do not match are replaced by the planned upload and reported; others under the path are left alone", async () => {
    await writeTree(dir, { "same-size.json": "local!", "other-size.json": "local", "no-digest.json": "abc", "ok.json": "fine" });
    const { s3, target } = await stageS3(client, "up");
    try {
      const put = (rel: string, body: string, sha256?: string) =>
        s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel, Body: body, Metadata: sha256 ? { sha256 } : undefined }));
      await put("same-size.json", "remote", sha("remote"));
      await put("other-size.json", "remote, longer", sha("remote, longer"));
      // Same bytes, but put there by something that records no digest: it cannot be told apart, so it is sent.
      await put("no-digest.json", "abc");
      await put("someone-elses.json", "theirs", sha("theirs"));
    } finally {
      s3.destroy();
    }
    emu.clearRequests();
    const { outcome } = await run(undefined);
    expect(outcome.adopted).toEqual([]);
    expect(outcome.uploaded).toEqual(["no-digest.json", "ok.json", "other-size.json", "same-size.json"]);
    expect(notices).toEqual([expect.stringMatching(/^replacing 3 object\(s\) this resource did not record .*\(no-digest\.json, other-size\.json, same-size\.json\)$/)]);
    expect((await emu.readObject(PREFIX + "same-size.json")).toString()).toBe("local!");
    expect((await emu.readObject(PREFIX + "someone-elses.json")).toString()).toBe("theirs");
  });

  test("an object whose recorded SHA-256 is the planned one but whose size is not is not adopted: it is replaced and reported", async () => {
    await writeTree(dir, { "a.json": "local" });
    const { s3, target } = await stageS3(client, "up");
    try {
      // Metadata that claims the planned digest over other bytes (a tool that copied the metadata, a truncated object).
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: PREFIX + "a.json", Body: "loc", Metadata: { sha256: sha("local") } }));
    } finally {
      s3.destroy();
    }
    const { outcome } = await run(undefined);
    expect(outcome.adopted).toEqual([]);
    expect(outcome.uploaded).toEqual(["a.json"]);
    expect(notices).toEqual([expect.stringMatching(/^replacing 1 object\(s\) this resource did not record .*\(a\.json\)$/)]);
    expect((await emu.readObject(PREFIX + "a.json")).toString()).toBe("local");
  });

  test("at keys the state records, an object of another size or another digest is reported as replaced; one of the recorded size without a digest is taken as the old version", async () => {
    await writeTree(dir, { "r-a.json": "v1", "r-b.json": "v1", "r-c.json": "v1" });
    const { manifest } = await run(undefined);
    const { s3, target } = await stageS3(client, "up");
    try {
      const put = (rel: string, body: string, sha256?: string) =>
        s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: PREFIX + rel, Body: body, Metadata: sha256 ? { sha256 } : undefined }));
      // Written since by something else: another size and no digest, the same size and another digest.
      await put("r-a.json", "another tool", undefined);
      await put("r-b.json", "v9", sha("v9"));
      // The recorded size and no digest: nothing tells it from the version the state records.
      await put("r-c.json", "v1", undefined);
    } finally {
      s3.destroy();
    }
    await writeTree(dir, { "r-a.json": "v2", "r-b.json": "v2", "r-c.json": "v2" });
    notices = [];
    // The first HEAD answers last: the list comes back out of path order.
    emu.faults.add({ target: "s3:head", count: 1, delayMs: 300 });
    const { outcome } = await run(manifest);
    expect(outcome.uploaded).toEqual(["r-a.json", "r-b.json", "r-c.json"]);
    expect(notices).toEqual([
      "replacing 2 object(s) this resource did not record whose content differs from the local file (r-a.json, r-b.json)",
    ]);
  });

  test("adoptions that come back out of order are reported in path order, and a run with nobody listening for notices still adopts", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b", "c.json": "c" });
    await run(undefined);
    emu.faults.add({ target: "s3:head", count: 1, delayMs: 300 });
    const { outcome } = await run(undefined, { onNotice: undefined });
    expect(outcome.adopted).toEqual(["a.json", "b.json", "c.json"]);
    expect(outcome.uploaded).toEqual([]);
  });

  test("a few changed files in a tree the state knows: one HEAD each and no listing; the old versions the state knows are not reported", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 900; i++) files[`n/${i}.json`] = `{"i":${i}}`;
    await writeTree(dir, files);
    const { manifest } = await run(undefined);
    await writeTree(dir, { "n/1.json": '{"i":"one"}', "n/2.json": '{"i":2}  ', "new.json": "{}" });
    emu.clearRequests();
    notices = [];
    const { outcome } = await run(manifest);
    expect(outcome.uploaded).toEqual(["n/1.json", "n/2.json", "new.json"]);
    expect(requests("s3:list")).toHaveLength(0);
    expect(requests("s3:head")).toHaveLength(3);
    expect(notices).toEqual([]);
  });

  test("an incomplete multipart upload at a key the resource writes is aborted by the next run; one at a key it does not is left", async () => {
    await writeTree(dir, { "big.bin": randomBytes(6 * MiB) });
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const rel of ["big.bin", "not-mine.bin"]) {
        await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: PREFIX + rel }));
      }
    } finally {
      s3.destroy();
    }
    const { outcome } = await run(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    expect(outcome.abortedUploads).toEqual(["big.bin"]);
    expect(notices).toEqual([expect.stringMatching(/aborted 1 incomplete multipart upload\(s\) left by an interrupted run \(big\.bin\)/)]);
    expect(((await pendingUploads(client, "up")) as { Key: string }[]).map((u) => u.Key)).toEqual([PREFIX + "not-mine.bin"]);
  });

  test("small files only: no look for multipart uploads at all", async () => {
    await writeTree(dir, { "a.json": "{}" });
    await run(undefined);
    expect(requests("s3:listUploads")).toEqual([]);
  });

  test("a stop mid-multipart: no new part starts, the upload in flight is aborted, and the error records what arrived", async () => {
    await writeTree(dir, { "a.json": "{}", "big.bin": randomBytes(30 * MiB) });
    emu.faults.add({ target: "s3:part", count: 100, delayMs: 300 });
    const stop = new AbortController();
    const err = await run(undefined, {
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
      concurrency: 2,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.bytesDone >= 5 * MiB) stop.abort(new ZillizStoppedError("SIGTERM"));
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err as ZillizUploadError).cause).toBeInstanceOf(ZillizStoppedError);
    expect((err as Error).message).toMatch(/stopped \(SIGTERM\)/);
    expect((err as ZillizUploadError).completed).toEqual(["a.json"]);
    expect(requests("s3:part").length).toBeLessThan(6);
    expect(requests("s3:abort")).toHaveLength(1);
    expect(requests("s3:complete")).toEqual([]);
    expect(await pendingUploads(client, "up")).toEqual([]);
  });
});
