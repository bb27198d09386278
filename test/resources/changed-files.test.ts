// changedDataPaths: which files the last create or update of a files
// resource added or changed, kept as index ranges in the state, driven
// through the StagedFiles provider against the emulator.
import type * as pulumi from "@pulumi/pulumi";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { StageClient } from "../../provider/client";
import type { Emulator } from "../../provider/emulator";
import { decodeChanged, encodeChanged } from "../../provider/resources/changed-files";
import { ProviderContext } from "../../provider/resources/provider-context";
import { manifestPaths } from "../../provider/upload";
import { configuredProvider } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { stageS3 } from "../helpers/s3";
import { emulatorWithStage } from "../helpers/stage";

test("index ranges: everything is one range, a few are a few, and they decode to the same paths", () => {
  const sorted = Array.from({ length: 100_000 }, (_, i) => `data/${String(i).padStart(6, "0")}.parquet`);
  expect(encodeChanged(sorted, sorted)).toBe("0-99999");
  expect(encodeChanged(sorted, [sorted[17], sorted[40], sorted[41], "not/there.json"])).toBe("17,40-41");
  expect(decodeChanged("17,40-41", sorted)).toEqual([sorted[17], sorted[40], sorted[41]]);
  expect(decodeChanged(encodeChanged(sorted, sorted), sorted)).toHaveLength(100_000);
  expect(encodeChanged(sorted, [])).toBe("");
  // State from before this output: nothing changed as far as it knows.
  expect(decodeChanged(undefined, sorted)).toEqual([]);
});

describe("StagedFiles changed", () => {
  let emu: Emulator;
  let dir: string;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  const changedPaths = (outs: any) => decodeChanged(outs.changed, manifestPaths(outs.manifest)).map((rel) => outs.path + rel);

  beforeEach(async () => {
    emu = await emulatorWithStage({ projectId: "proj-1", stageName: "raw" });
    dir = await mkTmp();
    const context = new ProviderContext({}, undefined, { log: () => undefined });
    ({ provider, close } = await configuredProvider("stagedFiles", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url }, context));
  });
  afterEach(async () => {
    await close();
    await emu.stop();
    await rmTmp(dir);
  });

  const check = async () => (await provider.check({}, { __provider: "p", stageName: "raw", source: dir, path: "data/" })).inputs;

  test("create lists every file; an update lists what it added or changed; one that only removes lists none", async () => {
    await writeTree(dir, { "1.json": "one", "2.json": "two" });
    const created = await provider.create(await check());
    expect(changedPaths(created.outs)).toEqual(["data/1.json", "data/2.json"]);
    expect(created.outs.changed).toBe("0-1");

    await writeTree(dir, { "2.json": "two, again", "3.json": "three" });
    const updated = (await provider.update(created.id, created.outs, await check())).outs;
    expect(changedPaths(updated)).toEqual(["data/2.json", "data/3.json"]);

    await rmTmp(`${dir}/1.json`);
    const removed = (await provider.update(created.id, updated, await check())).outs;
    expect(changedPaths(removed)).toEqual([]);
  });

  test("files that arrived in a run that failed part-way are listed by the next finished run, with its own", async () => {
    await writeTree(dir, { "1.json": "one" });
    const created = await provider.create(await check());
    await writeTree(dir, { "a.json": "a", "b.json": "b", "c.json": "c", "d.json": "d" });
    emu.faults.add({ target: "s3:put", skip: 2, count: 1000, status: 503 });
    const err = (await provider.update(created.id, created.outs, await check()).catch((e) => e)) as Error & { properties: any };
    emu.faults.clear();
    const arrived = changedPaths(err.properties);
    expect(arrived).toHaveLength(2);
    expect(err.properties.changesUnfinished).toBe(true);

    const finished = (await provider.update(created.id, err.properties, await check())).outs;
    expect(changedPaths(finished)).toEqual(["data/a.json", "data/b.json", "data/c.json", "data/d.json"]);
    expect(finished.changesUnfinished).toBeUndefined();
  });

  test("refresh keeps the list, minus files that are gone", async () => {
    await writeTree(dir, { "1.json": "one", "2.json": "two" });
    const created = await provider.create(await check());
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    const { s3, target } = await stageS3(client, "raw");
    await s3.send(new DeleteObjectCommand({ Bucket: target.bucketName, Key: `${target.stagePrefix}data/1.json` }));
    s3.destroy();
    await client.close();
    const read = (await provider.read(created.id, created.outs)).props;
    expect(changedPaths(read)).toEqual(["data/2.json"]);
  });
});
