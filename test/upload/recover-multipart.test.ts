// Incomplete multipart uploads an interrupted run left: the next run aborts
// the ones at the resource's keys whenever a file big enough to have gone
// multipart is in play (planned with small ones, exactly at the threshold,
// or only being removed), so no upload is left to be billed for ever.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { Emulator } from "../../provider/emulator";
import { ZillizStoreError, ZillizUploadError } from "../../provider/errors";
import { ExecuteOptions, Manifest } from "../../provider/upload";
import { writeTree } from "../helpers/fs";
import { scanPlanExecute, withUploadStage } from "../helpers/upload-stage";
import { pendingUploads, stageS3 } from "../helpers/s3";

const PREFIX = "stages/p/up/data/";
const MiB = 1024 * 1024;
const BIG = { multipartThreshold: 5 * MiB, partSize: 5 * MiB };

describe("incomplete multipart uploads left by an interrupted run", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let notices: string[];

  withUploadStage((s) => ({ emu, client, dir, notices } = s));

  const run = (known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}) => scanPlanExecute({ emu, client, dir, notices }, known, { ...BIG, ...opts });

  /** What an interrupted run leaves: a multipart upload started at each of `rels` and never completed. */
  async function orphans(...rels: string[]): Promise<void> {
    const { s3, target } = await stageS3(client, "up");
    try {
      for (const rel of rels) await s3.send(new CreateMultipartUploadCommand({ Bucket: target.bucketName, Key: PREFIX + rel }));
    } finally {
      s3.destroy();
    }
  }
  const pending = async () => ((await pendingUploads(client, "up")) as { Key: string }[]).map((u) => u.Key.slice(PREFIX.length)).sort();
  const stored = () => emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort();

  test("a small file planned with one exactly at the threshold: the orphan at the big one's key is aborted", async () => {
    await writeTree(dir, { "a.json": "{}", "big.bin": randomBytes(5 * MiB) });
    await orphans("big.bin", "elsewhere.bin");
    const { outcome } = await run(undefined);
    expect(outcome.uploaded).toEqual(["a.json", "big.bin"]);
    expect(outcome.abortedUploads).toEqual(["big.bin"]);
    expect(notices).toEqual([expect.stringMatching(/aborted 1 incomplete multipart upload\(s\) left by an interrupted run \(big\.bin\)$/)]);
    // The one at a key this resource never had may be another's: left.
    expect(await pending()).toEqual(["elsewhere.bin"]);
    expect(stored()).toEqual(["a.json", "big.bin"]);
  });

  test("orphans at a small and a big planned key, left in reverse path order: both aborted, reported in path order", async () => {
    await writeTree(dir, { "a.json": "{}", "big.bin": randomBytes(5 * MiB) });
    await orphans("big.bin", "a.json");
    const { outcome } = await run(undefined);
    expect(outcome.abortedUploads).toEqual(["a.json", "big.bin"]);
    expect(notices).toEqual([expect.stringMatching(/aborted 2 incomplete multipart upload\(s\) left by an interrupted run \(a\.json, big\.bin\)$/)]);
    expect(await pending()).toEqual([]);
  });

  test("an abort failing until the retries run out fails the run before anything is sent, naming the upload", async () => {
    await writeTree(dir, { "big.bin": randomBytes(5 * MiB) });
    await orphans("big.bin");
    emu.clearRequests();
    emu.faults.add({ target: "s3:abort", count: 10, status: 500 });
    const err = (await run(undefined, { maxAttempts: 2 }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err.cause as ZillizStoreError).operation).toBe("AbortMultipartUpload big.bin");
    expect(emu.requests().filter((r) => r.kind === "s3:initiate")).toEqual([]);
    expect(await pending()).toEqual(["big.bin"]);
  });

  test("a run that only removes a big file the state records: the orphan at its key is aborted and the file removed", async () => {
    await writeTree(dir, { "big.bin": randomBytes(6 * MiB), "keep.json": "k" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "big.bin"));
    await orphans("big.bin", "elsewhere.bin");
    const { outcome } = await run(manifest);
    expect(outcome.uploaded).toEqual([]);
    expect(outcome.deleted).toEqual(["big.bin"]);
    expect(outcome.abortedUploads).toEqual(["big.bin"]);
    expect(await pending()).toEqual(["elsewhere.bin"]);
    expect(stored()).toEqual(["keep.json"]);
  });

  test("only small files removed and planned: the store is not asked for multipart uploads, and an orphan elsewhere stays", async () => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    const { manifest } = await run(undefined);
    await fs.rm(path.join(dir, "a.json"));
    await writeTree(dir, { "b.json": "b, changed" });
    await orphans("b.json");
    emu.clearRequests();
    await run(manifest);
    expect(emu.requests().filter((r) => r.kind === "s3:listUploads")).toEqual([]);
    expect(await pending()).toEqual(["b.json"]);
  });
});
