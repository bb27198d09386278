// Input rules every resource's check applies, through the providers' own
// check: unknown input names (a typo in a YAML or JavaScript program) are
// refused with the nearest known name, internal keys are not, one message per
// property, and the volume settings that cannot go together.
import type * as pulumi from "@pulumi/pulumi";
import { IMPORT_JOB_OUTPUTS } from "../../provider/resources/import-job";
import { nearestName } from "../../provider/resources/inputs";
import { seededOutputs } from "../../provider/resources/seeded-outputs";
import { ProviderContext } from "../../provider/resources/provider-context";
import { createProvider, ProviderKind } from "../../provider/resources/runtime";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const __provider = "serialized provider text";

describe("input rules at check", () => {
  let dir: string;
  const providers = new Map<ProviderKind, pulumi.dynamic.ResourceProvider>();
  const check = async (kind: ProviderKind, news: Record<string, unknown>) => {
    if (!providers.has(kind)) providers.set(kind, createProvider(kind, new ProviderContext({}, undefined, { log: () => undefined })));
    const res = await providers.get(kind)!.check!({}, { __provider, ...news });
    return res.failures ?? [];
  };

  beforeAll(async () => {
    dir = await mkTmp();
    await writeTree(dir, { "a.json": "{}" });
  });
  afterAll(() => rmTmp(dir));

  /**
   * Valid inputs of each resource with every key its class passes to the
   * engine: the outputs it seeds as undefined included (stage.ts, volume.ts,
   * staged-files.ts, import-job.ts).
   */
  const valid = (): Record<ProviderKind, Record<string, unknown>> => ({
    stage: { projectId: "p", regionId: "r", stageName: "raw", adopt: undefined, connection: undefined },
    volume: {
      projectId: "p",
      regionId: "r",
      volumeName: "raw",
      type: "MANAGED",
      storageIntegrationId: undefined,
      path: undefined,
      adopt: false,
      connection: undefined,
      status: undefined,
      createTime: undefined,
    },
    stagedFiles: { stageName: "raw", ...filesKeys() },
    volumeFiles: { volumeName: "raw", ...filesKeys() },
    importJob: {
      clusterId: "in01-x",
      projectId: undefined,
      regionId: undefined,
      collectionName: "books",
      partitionName: undefined,
      dbName: undefined,
      volumeName: "raw",
      stageName: undefined,
      dataPaths: [["a.json"]],
      allowEmpty: undefined,
      trigger: "1",
      waitForCompletion: true,
      timeoutSeconds: 60,
      connection: undefined,
      ...seededOutputs(IMPORT_JOB_OUTPUTS),
    },
  });
  const filesKeys = () => ({
    source: dir,
    path: "data/",
    include: undefined,
    exclude: undefined,
    deleteRemoved: true,
    concurrency: 4,
    forceRehash: false,
    followSymlinks: "inside",
    allowEmpty: false,
    connection: undefined,
    fileCount: undefined,
    totalBytes: undefined,
    manifestHash: undefined,
    manifest: undefined,
    changed: undefined,
  });

  const KINDS: ProviderKind[] = ["stage", "volume", "stagedFiles", "volumeFiles", "importJob"];

  test.each(KINDS)("%s: every key its class sends, __provider included, passes", async (kind) => {
    expect(await check(kind, valid()[kind])).toEqual([]);
  });

  const RESOURCE: Record<ProviderKind, string> = { stage: "Stage", volume: "Volume", stagedFiles: "StagedFiles", volumeFiles: "VolumeFiles", importJob: "ImportJob" };
  test.each([
    ["stage", "stagename", "stageName"],
    ["stage", "adpot", "adopt"],
    ["volume", "storageIntegrationID", "storageIntegrationId"],
    ["volume", "volume_name", "volumeName"],
    ["stagedFiles", "deleteRemove", "deleteRemoved"],
    ["stagedFiles", "exlude", "exclude"],
    ["volumeFiles", "followSymLinks", "followSymlinks"],
    ["volumeFiles", "allowempty", "allowEmpty"],
    ["importJob", "waitForCompletio", "waitForCompletion"],
    ["importJob", "datapaths", "dataPaths"],
  ] as [ProviderKind, string, string][])("%s: the typo %s is refused, suggesting %s", async (kind, typo, meant) => {
    const failures = await check(kind, { ...valid()[kind], [typo]: false });
    expect(failures).toEqual([{ property: typo, reason: `${typo} is not an input of ${RESOURCE[kind]}; did you mean ${meant}?` }]);
  });

  test("a name close to nothing lists the inputs instead of guessing", async () => {
    const failures = await check("stage", { ...valid().stage, colour: "blue" });
    expect(failures).toEqual([{ property: "colour", reason: "colour is not an input of Stage; the inputs of Stage are projectId, regionId, stageName, adopt, connection" }]);
  });

  test("keys starting with __ are the engine's and the provider's own", async () => {
    expect(await check("stagedFiles", { ...valid().stagedFiles, __internal: 1 })).toEqual([]);
  });

  test("nearestName: a typo within a third of the name, case-insensitive", () => {
    expect(nearestName("DELETEREMOVED", ["deleteRemoved", "path"])).toBe("deleteRemoved");
    expect(nearestName("pth", ["deleteRemoved", "path"])).toBe("path");
    expect(nearestName("zzzzzzzz", ["deleteRemoved", "path"])).toBeUndefined();
  });

  describe("volume settings", () => {
    test("a MANAGED volume with storageIntegrationId is refused like one with path", async () => {
      expect(await check("volume", { ...valid().volume, storageIntegrationId: "integ-1" })).toEqual([
        { property: "storageIntegrationId", reason: 'storageIntegrationId is only for EXTERNAL volumes (a MANAGED volume is stored by Zilliz Cloud); remove it, or set type: "EXTERNAL"' },
      ]);
      // type defaults to MANAGED.
      expect(await check("volume", { ...valid().volume, type: undefined, storageIntegrationId: "integ-1" })).toHaveLength(1);
      expect(await check("volume", { ...valid().volume, type: "EXTERNAL", storageIntegrationId: "integ-1", path: "bucket/dir/" })).toEqual([]);
    });
  });

  describe("one message per bad property", () => {
    test("an ImportJob collectionName that is empty: the field rule, not also the cross-field one", async () => {
      const failures = await check("importJob", { ...valid().importJob, collectionName: "" });
      expect(failures).toEqual([{ property: "collectionName", reason: "collectionName must not be empty" }]);
    });

    test("a files path that is not a string: one failure", async () => {
      const failures = await check("volumeFiles", { ...valid().volumeFiles, path: 7 });
      expect(failures).toEqual([{ property: "path", reason: "path must be a string" }]);
    });

    test("a typo and a bad value are two properties, two messages", async () => {
      const failures = await check("stagedFiles", { ...valid().stagedFiles, deleteRemove: false, path: " data" });
      expect(failures.map((f) => f.property).sort()).toEqual(["deleteRemove", "path"]);
    });
  });
});
