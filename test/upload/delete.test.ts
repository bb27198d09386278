// Removing files from a stage (provider/upload/delete.ts) against the
// emulator: the batch call, the one-key-at-a-time fallback for stores without
// it, and what a refusal reports. The store's own listing is the judge.
import { StageClient } from "../../provider/client";
import { storageAt } from "../../provider/client/dialect";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizStoreError, ZillizUploadError } from "../../provider/errors";
import { deleteFiles } from "../../provider/upload";
import { UploadTargetCache } from "../../provider/upload/credentials";
import { deleteKeys } from "../../provider/upload/delete";
import { StoreSession } from "../../provider/upload/session";
import { putObjects } from "../helpers/s3";

const PREFIX = "stages/p/del/";

describe("removing files", () => {
  let emu: Emulator;
  let client: StageClient;

  beforeEach(async () => {
    emu = await startEmulator();
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "del" });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "other" });
    await putObjects(client, "del", { "d/a.json": "a", "d/b.json": "b", "d/c.json": "c", "keep.json": "k" });
    await putObjects(client, "other", { "d/x.json": "x" });
    emu.clearRequests();
  });
  afterEach(async () => {
    await client.close();
    await emu.stop();
  });

  const stored = () => emu.listObjects().map((o) => o.key).sort();
  const kinds = (kind: string) => emu.requests().filter((r) => r.kind === kind);

  test("nothing to remove asks nothing, not even for credentials", async () => {
    expect(await deleteFiles({ stageName: "del", path: "d/" }, [], { targets: client })).toEqual({ deleted: [], foreign: [] });
    expect(emu.requests()).toEqual([]);
  });

  // Batching is deleteKeys' job; deleteFiles first drops keys already gone
  // (ownership's probe), so these call the batching layer with keys that
  // were never there, as S3 answers 204 for them.
  async function removeGone(names: string[]): Promise<string[]> {
    const keys = Object.fromEntries(names.map((n) => [n, `${PREFIX}d/${n}`]));
    const targets = new UploadTargetCache(client, storageAt({ stageName: "del", path: "" }, ""));
    const session = new StoreSession(targets, { concurrency: 4, requestTimeoutMs: 10_000 });
    const deleted: string[] = [];
    try {
      const failure = await deleteKeys(session, names, keys, deleted);
      expect(failure).toBeUndefined();
      return deleted;
    } finally {
      session.close();
    }
  }

  test("exactly 1000 removals are one DeleteObjects call, 2000 are two", async () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `gone/${i}.json`);
    await removeGone(names(1000));
    expect(kinds("s3:deleteMany")).toHaveLength(1);
    emu.clearRequests();
    const deleted = await removeGone(names(2000));
    expect(kinds("s3:deleteMany")).toHaveLength(2);
    // Each file once: the batches do not overlap.
    expect(new Set(deleted).size).toBe(2000);
  });

  test("the one-key fallback goes on past the first 1000", async () => {
    emu.faults.add({ target: "s3:deleteMany", count: 2, status: 501 });
    const names = Array.from({ length: 1001 }, (_, i) => `gone/${i}.json`);
    const deleted = await removeGone([...names, "a.json"]);
    expect(deleted).toHaveLength(1002);
    expect(kinds("s3:delete")).toHaveLength(1002);
    expect(stored()).not.toContain(`${PREFIX}d/a.json`);
  });

  test("a store without DeleteObjects (501) gets one DeleteObject per file, and every file goes", async () => {
    emu.faults.add({ target: "s3:deleteMany", count: 1, status: 501 });
    const outcome = await deleteFiles({ stageName: "del", path: "d/" }, ["c.json", "a.json", "b.json"], { targets: client });
    expect(outcome.deleted).toEqual(["a.json", "b.json", "c.json"]);
    expect(kinds("s3:deleteMany").map((r) => r.status)).toEqual([501]);
    expect(kinds("s3:delete").map((r) => r.key).sort()).toEqual([`${PREFIX}d/a.json`, `${PREFIX}d/b.json`, `${PREFIX}d/c.json`]);
    expect(stored()).toEqual([`${PREFIX}keep.json`, "stages/p/other/d/x.json"]);
  });

  test("one key refused in that fallback: named, with what was removed (sorted) and what stays", async () => {
    emu.faults.add({ target: "s3:deleteMany", count: 1, status: 501 });
    emu.faults.add({ target: "s3:delete", skip: 2, count: 10, status: 403 });
    const err = (await deleteFiles({ stageName: "del", path: "d/" }, ["c.json", "b.json", "a.json"], { targets: client, concurrency: 1 }).catch(
      (e: unknown) => e,
    )) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    // The removals go in path order (the ownership probe sorts them): the third, c.json, is refused.
    expect(err.message).toMatch(/^Could not delete c\.json from stage del \(.*InjectedFault.*\)\. 2 of 3 removals were done; run again to remove the rest\.$/);
    expect(err.deleted).toEqual(["a.json", "b.json"]);
    expect(err.completed).toEqual([]);
    expect((err.cause as ZillizStoreError).operation).toBe("DeleteObject c.json");
    expect(stored()).toEqual([`${PREFIX}d/c.json`, `${PREFIX}keep.json`, "stages/p/other/d/x.json"]);
  });

  test("a refused DeleteObjects call (403) is not retried one key at a time: the files stay", async () => {
    emu.faults.add({ target: "s3:deleteMany", count: 1, status: 403 });
    const err = (await deleteFiles({ stageName: "del", path: "d/" }, ["a.json"], { targets: client }).catch((e: unknown) => e)) as ZillizUploadError;
    expect(err).toBeInstanceOf(ZillizUploadError);
    expect((err.cause as ZillizStoreError).operation).toBe("DeleteObjects (1 keys)");
    expect(kinds("s3:delete")).toEqual([]);
    expect(stored()).toContain(`${PREFIX}d/a.json`);
  });

  describe("keys the store refuses inside a DeleteObjects answer", () => {
    /** deleteKeys on stage "del" with `keys`, as an upload run calls it. */
    async function removeKeys(keys: Record<string, string>, source: ConstructorParameters<typeof UploadTargetCache>[0] = client) {
      const targets = new UploadTargetCache(source, storageAt({ stageName: "del", path: "" }, ""));
      const session = new StoreSession(targets, { concurrency: 4, requestTimeoutMs: 10_000 });
      const deleted: string[] = [];
      try {
        const failure = await deleteKeys(session, Object.keys(keys), keys, deleted);
        return { failure, deleted };
      } finally {
        session.close();
      }
    }

    test("the others are removed and counted; the first refused one is named with the store's code and message", async () => {
      // A key of another stage: the emulator refuses it in the answer, as S3 does with AccessDenied per key.
      const { failure, deleted } = await removeKeys({
        "d/a.json": `${PREFIX}d/a.json`,
        "elsewhere.json": "stages/p/other/d/x.json",
        "d/b.json": `${PREFIX}d/b.json`,
      });
      expect(deleted.sort()).toEqual(["d/a.json", "d/b.json"]);
      expect(failure?.rel).toBe("elsewhere.json");
      expect(failure?.err).toBeInstanceOf(ZillizStoreError);
      expect(failure?.err).toMatchObject({ storeCode: "AccessDenied", operation: "DeleteObjects elsewhere.json", message: "AccessDenied: Access Denied" });
      expect(stored()).toEqual([`${PREFIX}d/c.json`, `${PREFIX}keep.json`, "stages/p/other/d/x.json"]);
    });

    test("credentials that cannot be had: the first file is named with that error, and nothing is asked of the store", async () => {
      const refused = new Error("apply refused");
      const { failure, deleted } = await removeKeys({ "d/a.json": `${PREFIX}d/a.json` }, { applyUploadTarget: () => Promise.reject(refused) });
      expect(failure).toEqual({ rel: "d/a.json", err: refused });
      expect(deleted).toEqual([]);
      expect(emu.requests().filter((r) => r.kind.startsWith("s3:"))).toEqual([]);
      expect(stored()).toContain(`${PREFIX}d/a.json`);
    });

    test("nothing refused: no failure, every key counted", async () => {
      const { failure, deleted } = await removeKeys({ "d/a.json": `${PREFIX}d/a.json`, "d/c.json": `${PREFIX}d/c.json` });
      expect(failure).toBeUndefined();
      expect(deleted.sort()).toEqual(["d/a.json", "d/c.json"]);
    });
  });
});
