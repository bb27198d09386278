// dataPaths packed (packed-data-paths.ts): a files resource's dataPaths
// given to the TypeScript ImportJob travel as one string. The codec, the
// marker the program uses to find them, and the ImportJob provider against
// the emulator: packed paths are checked as a list would be, kept packed in
// the inputs the engine stores, start the same job, and compare equal to the
// same paths sent as a list by an earlier version (state written before
// packing sees no change).
import { gunzipSync, gzipSync } from "node:zlib";
import type * as pulumi from "@pulumi/pulumi";
import * as pulumiRuntime from "@pulumi/pulumi";
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { outputsFor } from "../../provider/resources/import-job-inputs";
import { UNKNOWN } from "../../provider/resources/inputs";
import { packDataPaths, packedOf, packOnePerBatch, unpackDataPaths, withPacked } from "../../provider/resources/packed-data-paths";
import { ProviderContext } from "../../provider/resources/provider-context";
import { jsonRows } from "../helpers/data-files";
import { configuredProvider } from "../helpers/provider";
import { putObjects } from "../helpers/s3";

describe("packed dataPaths: the codec", () => {
  test.each<[string, string[][]]>([
    ["no batch", []],
    ["one path", [["data/a.json"]]],
    ["batches of several paths, sharing prefixes across batches", [["data/n/a.npy", "data/n/b.npy"], ["data/n/c.npy"], ["other/x.parquet"], ["data/"]]],
    ["names JavaScript treats specially", [["__proto__"], ["constructor"], ["toString"], ["hasOwnProperty"]]],
    ["astral characters whose surrogate pairs share their first half", [["d/\u{1F600}.json"], ["d/\u{1F601}.json"], ["d/é ü (1).json"]]],
  ])("%s: unpack gives back exactly what was packed", (_name, batches) => {
    const packed = packDataPaths(batches);
    expect(packed.startsWith("zp1:")).toBe(true);
    expect(unpackDataPaths(packed)).toEqual(batches);
  });

  test("packOnePerBatch writes exactly what packDataPaths writes for batches of one path", () => {
    for (const paths of [[], ["data/a.json"], ["d/\u{1F600}.json", "d/\u{1F601}.json", "d/é ü (1).json", "e/__proto__"]]) {
      const prefixed = paths.map((p) => `data/${p}`);
      const packed = packOnePerBatch(prefixed.length, (i) => prefixed[i]);
      expect(packed).toBe(packDataPaths(prefixed.map((p) => [p])));
      expect(unpackDataPaths(packed)).toEqual(prefixed.map((p) => [p]));
    }
  });

  test("the first path is written whole: it shares nothing with a path before it", () => {
    const raw = gunzipSync(Buffer.from(packDataPaths([["Stryker/a.json"], ["Stryker/b.json"]]).slice(4), "base64"));
    // 2 batches; 1 path; 0 code units shared, then the 14 bytes of the path.
    expect([...raw.subarray(0, 4)]).toEqual([2, 1, 0, 14]);
    expect(raw.subarray(4, 18).toString()).toBe("Stryker/a.json");
    const packed = "zp1:" + gzipSync(Buffer.from([1, 1, 3, 1, 0x61])).toString("base64");
    expect(() => unpackDataPaths(packed)).toThrow(/a path shares more than its predecessor has/);
  });

  test("100,000 sorted paths pack to under 2 % of their JSON", () => {
    const batches = Array.from({ length: 100_000 }, (_, i) => [`data/d${String(Math.floor(i / 100)).padStart(4, "0")}/f${String(i).padStart(6, "0")}.json`]);
    const packed = packDataPaths(batches);
    expect(packed.length).toBeLessThan(0.02 * JSON.stringify(batches).length);
    expect(unpackDataPaths(packed)).toEqual(batches);
  });

  test.each([
    ["another tag", "zm2:AAAA", /does not start with "zp1:"/],
    ["not gzip", "zp1:" + Buffer.from("not gzip").toString("base64"), /incorrect header check/],
    ["bytes after the last path", "zp1:" + gzipSync(Buffer.concat([gunzipSync(Buffer.from(packDataPaths([["a"]]).slice(4), "base64")), Buffer.from([0])])).toString("base64"), /bytes follow the last path/],
    ["fewer paths than counted", "zp1:" + gzipSync(Buffer.from([1, 2, 0, 1, 0x61])).toString("base64"), /shorter than|ends in the middle/],
  ])("%s is refused with the fix", (_name, text, why) => {
    expect(() => unpackDataPaths(text)).toThrow(why);
    expect(() => unpackDataPaths(text)).toThrow(/^packed dataPaths cannot be decoded \(.*\); pass dataPaths as a list of lists instead$/);
  });

  test("the marker: only an Output made by withPacked gives a packed form, and only when asked", async () => {
    let asked = 0;
    const plain = pulumiRuntime.output([["data/a.json"]]);
    const marked = withPacked(plain, () => {
      asked++;
      return pulumiRuntime.output(packDataPaths([["data/a.json"]]));
    });
    expect(asked).toBe(0);
    expect(packedOf([["data/a.json"]])).toBeUndefined();
    expect(packedOf(marked.apply((p) => p))).toBeUndefined();
    expect(packedOf(undefined)).toBeUndefined();
    expect(packedOf(null)).toBeUndefined();
    expect(packedOf("zp1:")).toBeUndefined();
    const packed = packedOf(marked)!;
    expect(asked).toBe(1);
    const value = await new Promise<string>((resolve) => packed.apply(resolve));
    expect(unpackDataPaths(value)).toEqual([["data/a.json"]]);
  });
});

describe("packed dataPaths: the ImportJob provider", () => {
  const __provider = "serialized provider text";
  const base = { __provider, clusterId: "in01-emulator", collectionName: "quickstart", stageName: "raw" };
  const paths = [["data/a.json"], ["data/c.json"]];
  let emu: Emulator;
  let rest: StageClient;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    emu = await startEmulator({ importRowsPerSecond: 1e6 });
    rest = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await rest.createStage({ projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" });
    await putObjects(rest, "raw", { "data/a.json": jsonRows(3), "data/c.json": jsonRows(7) });
    ({ provider, close } = await configuredProvider("importJob", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url }, new ProviderContext({}, undefined, { log: () => undefined })));
  });
  afterAll(async () => {
    await close?.();
    await rest?.close();
    await emu?.stop();
  });

  test("check keeps them packed in the inputs; create imports the paths they hold", async () => {
    const sent = { ...base, dataPathsPacked: packDataPaths(paths) };
    const { inputs, failures } = await provider.check({}, sent);
    expect(failures).toEqual([]);
    expect(inputs).toEqual(sent);
    const { id, outs } = await provider.create(inputs);
    expect(id).toMatch(/^job-/);
    expect(outs).toMatchObject({ state: "Completed", importedRows: 10, batchCount: 2, pathCount: 2 });
    expect(outs.dataPaths).toBeUndefined();
    expect(outs.dataPathsPacked).toBeUndefined();
  });

  test("state an earlier version wrote (dataPaths as a list) sees the same paths packed as no change; other paths as a new job", async () => {
    const olds = { ...outputsFor({ ...base, dataPaths: paths }, { jobId: "job-1", state: "Completed" }), __provider };
    expect(await provider.diff("job-1", olds, { ...base, dataPathsPacked: packDataPaths(paths) })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    const other = await provider.diff("job-1", olds, { ...base, dataPathsPacked: packDataPaths([["data/a.json"]]) });
    expect(other).toMatchObject({ changes: true, replaces: ["dataPaths"] });
  });

  test("packed paths not known yet (a preview while the files change): check passes, diff replaces the job", async () => {
    const sent = { ...base, dataPathsPacked: UNKNOWN };
    expect(await provider.check({}, sent)).toEqual({ inputs: sent, failures: [] });
    const olds = { ...outputsFor({ ...base, dataPaths: paths }, { jobId: "job-1", state: "Completed" }), __provider };
    expect(await provider.diff("job-1", olds, sent)).toMatchObject({ changes: true, replaces: ["dataPaths"] });
  });

  test("a path check refuses inside packed paths exactly as it would in a list", async () => {
    const bad = [["data/a.json"], ["../etc/passwd"]];
    const asList = await provider.check({}, { ...base, dataPaths: bad });
    expect(asList.failures.length).toBeGreaterThan(0);
    expect((await provider.check({}, { ...base, dataPathsPacked: packDataPaths(bad) })).failures).toEqual(asList.failures);
  });

  test("empty packed paths are refused like an empty list, unless allowEmpty", async () => {
    const empty = packDataPaths([]);
    expect((await provider.check({}, { ...base, dataPathsPacked: empty })).failures.map((f) => f.property)).toEqual(["dataPaths"]);
    expect((await provider.check({}, { ...base, dataPathsPacked: empty, allowEmpty: true })).failures).toEqual([]);
  });

  test("packed paths that do not decode, or come with a list too, are refused on dataPaths", async () => {
    const bad = await provider.check({}, { ...base, dataPathsPacked: "zp1:%%%" });
    expect(bad.failures).toEqual([{ property: "dataPaths", reason: expect.stringMatching(/^dataPaths packed dataPaths cannot be decoded/) }]);
    const both = await provider.check({}, { ...base, dataPaths: paths, dataPathsPacked: packDataPaths(paths) });
    expect(both.failures).toEqual([{ property: "dataPaths", reason: expect.stringMatching(/must not be given together with dataPathsPacked/) }]);
  });
});
