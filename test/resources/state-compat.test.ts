// State written by older versions of this package must keep working: every
// provider method is fed the oldest state shape we ever wrote (the first
// commits, 0e8acce/c80afd5), and the sparse shapes other paths leave
// behind (an import's read, a hand-edited state without `retained`).
import * as path from "node:path";
import type { Emulator } from "../../provider/emulator";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { manifestPaths } from "../../provider/upload";
import { configuredProvider } from "../helpers/provider";
import { emulatorWithStage } from "../helpers/stage";

const PREFIX = "stages/proj-1/raw/";
/** SHA-256 of "a". */
const SHA_A = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";

describe("state written by older versions", () => {
  let emu: Emulator;
  let dir: string;

  beforeEach(async () => {
    emu = await emulatorWithStage({ projectId: "proj-1", stageName: "raw" });
    dir = await mkTmp();
  });
  afterEach(async () => {
    await emu.stop();
    await rmTmp(dir);
  });
  const config = () => ({ "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url });

  /** The outputs 0e8acce's `outputsFor` wrote for one file "a.json" ("a") at the stage root. */
  const oldestFiles = () => ({
    stageName: "raw",
    path: "",
    source: dir,
    deleteRemoved: true,
    manifest: { "a.json": { size: 1, sha256: SHA_A, mtimeMs: 1 } },
    retained: [] as string[],
    files: ["a.json"],
    fileCount: 1,
    totalBytes: 1,
    manifestHash: "0".repeat(64),
    dataPaths: [["a.json"]],
  });
  const { retained: _dropped, ...withoutRetained } = oldestFiles();
  /**
   * The outputs of the release before owners (3399fa2) for the same file:
   * a `zm1:` manifest (encodeManifest's output for it then), no
   * `ownerToken`, no stamps.
   */
  const beforeOwners = () => ({
    stageName: "raw",
    path: "",
    source: dir,
    deleteRemoved: true,
    manifest: "zm1:AAAAIh+LCAAAAAAAAANjZGBL1Msqzs9jZHjBzgAAyrYFEg4AAADKl4ESyhu9yvrCMbOaI9xNp4bv+BR8TnK5gHeFr+5Iuw==",
    retained: [] as string[],
    fileCount: 1,
    totalBytes: 1,
    manifestHash: "0".repeat(64),
    changed: "0",
  });
  const shapes: [string, () => Record<string, unknown>][] = [
    ["the first shape written", oldestFiles],
    ["without retained", () => ({ ...withoutRetained, source: dir })],
    ["an import's read (only what the id says)", () => ({ stageName: "raw", path: "" })],
    ["the release before owners (zm1, no ownerToken)", beforeOwners],
  ];

  test.each(shapes)("StagedFiles: check, diff, update, read and delete accept %s", async (_name, shape) => {
    await writeTree(dir, { "a.json": "a", "b.json": "b" });
    // Put "a.json" where the old state says it is, as those versions wrote
    // it: its SHA-256, no owner mark.
    const { s3, target } = await stageS3(new StageClient({ apiKey: emu.apiKey, endpoint: emu.url }), "raw");
    await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: `${PREFIX}a.json`, Body: "a", Metadata: { sha256: SHA_A } }));
    s3.destroy();

    const { provider, close } = await configuredProvider("stagedFiles", config());
    try {
      const olds = shape();
      const checked = await provider.check(olds, { stageName: "raw", source: dir });
      expect(checked.failures).toEqual([]);
      const diff = await provider.diff("raw/", olds, checked.inputs);
      expect(diff.changes).toBe(true);
      expect(diff.replaces ?? []).toEqual([]);
      const updated = await provider.update("raw/", olds, checked.inputs);
      expect(manifestPaths(updated.outs.manifest)).toEqual(["a.json", "b.json"]);
      expect(emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length)).sort()).toEqual(["a.json", "b.json"]);

      const read = await provider.read("raw/", olds);
      expect(read.id).toBe("raw/");
      expect(updated.outs.ownerToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
      await provider.delete("raw/", olds);
      // What the old state owned is gone; what it did not know of stays.
      const owned = manifestPaths(olds.manifest);
      const left = emu.listObjects(PREFIX).map((o) => o.key.slice(PREFIX.length));
      for (const rel of owned) expect(left).not.toContain(rel);
      expect(left).toContain("b.json");
    } finally {
      await close();
    }
  });

  test("Stage: diff, update, read and delete accept the first shape written", async () => {
    const { provider, close } = await configuredProvider("stage", config());
    try {
      const oldest = { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" };
      const inputs = (await provider.check(oldest, { ...oldest })).inputs;
      expect(await provider.diff("raw", oldest, inputs)).toMatchObject({ changes: false });
      expect((await provider.update("raw", oldest, inputs)).outs).toEqual(oldest);
      expect(await provider.read("raw", oldest)).toEqual({ id: "raw", props: oldest });
      // An import's state knows only the id.
      expect(await provider.read("raw", {})).toEqual({ id: "raw", props: {} });
      await provider.delete("raw", oldest);
      expect(emu.listStageNames()).toEqual([]);
    } finally {
      await close();
    }
  });

  test("a file source uploads from the root its scan found", async () => {
    await writeTree(dir, { "one.json": "1" });
    const { provider, close } = await configuredProvider("stagedFiles", config());
    try {
      const checked = await provider.check({}, { stageName: "raw", source: path.join(dir, "one.json") });
      const created = await provider.create(checked.inputs);
      expect(manifestPaths(created.outs.manifest)).toEqual(["one.json"]);
      expect(emu.listObjects(PREFIX).map((o) => o.key)).toEqual([`${PREFIX}one.json`]);
    } finally {
      await close();
    }
  });
});
