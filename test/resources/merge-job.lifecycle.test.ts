// MergeJob's provider against the emulator, driven as the engine drives it:
// check, diff, create, update, read, delete, with real Parquet files in a
// real volume, rows imported into a real (emulated) collection, and merges
// that really join them (at the emulator's pace). Rows are checked through
// the emulator's inspection route.
import { ImportJobClient, StageClient } from "../../provider/client";
import type { Emulator } from "../../provider/emulator";
import { ZillizMergeError } from "../../provider/errors";
import type { MergeJobOutputs } from "../../provider/resources/merge-job-inputs";
import { parquet } from "../helpers/data-files";
import { inspectCollection, parquetColumns, untilRows } from "../helpers/merge";
import { afresh, checkedInputs, providerOnEmulator, type ProviderOnEmulator } from "../helpers/provider";
import { putObjects } from "../helpers/s3";

const __provider = "serialized provider text";
const CLUSTER = "in01-emulator";
const genre = { fieldName: "genre", dataType: "VARCHAR", maxLength: 16 };
const year = { fieldName: "year", dataType: "INT16" };
const base = { __provider, clusterId: CLUSTER, collectionName: "books", mergeField: "id", newFields: [genre, year], volumeName: "raw", dataPath: "enrich/genres.parquet" };

type Recorded = ZillizMergeError & { id: string; properties: MergeJobOutputs & { __provider: string }; reasons: string[] };

describe("MergeJob lifecycle", () => {
  let emu: Emulator, rest: StageClient, provider: ProviderOnEmulator["provider"], close: () => Promise<void>;
  let lines: string[];
  let destCount = 0;
  /** A destination no test used before. */
  const dest = () => `merged_${++destCount}`;

  beforeAll(async () => {
    // 500 rows a second: the 3,000-row collection takes six seconds to merge, long enough to time out on.
    const emulator = { importRowsPerSecond: 500, collections: [`${CLUSTER}/books`, `${CLUSTER}/big`] };
    ({ emu, client: rest, provider, said: lines, close } = await providerOnEmulator("mergeJob", { emulator }));
    await rest.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" });
    const ids = [1, 2, 3, 4, 5];
    await putObjects(rest, "raw", {
      "books.json": JSON.stringify({ rows: ids.map((id) => ({ id, title: `book ${id}` })) }),
      "big.parquet": await parquet(3000),
      // Books 1-3 have a genre; book 4's row has nulls; 99 matches nothing (an orphan).
      "enrich/genres.parquet": await parquetColumns({
        id: { type: "INT64", data: [1n, 2n, 3n, 99n] },
        genre: { type: "STRING", data: ["poetry", "drama", "essay", "orphan"] },
        year: { type: "INT32", data: [1850, 1601, 1580, 2000] },
      }),
      "enrich/no-id.parquet": await parquetColumns({ key: { type: "INT64", data: [1n] }, genre: { type: "STRING", data: ["x"] }, year: { type: "INT32", data: [1] } }),
      "enrich/no-year.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, genre: { type: "STRING", data: ["x"] } }),
      "enrich/year-text.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, genre: { type: "STRING", data: ["x"] }, year: { type: "STRING", data: ["1850"] } }),
      "enrich/year-big.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, genre: { type: "STRING", data: ["x"] }, year: { type: "INT32", data: [70_000] } }),
      "enrich/long.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, genre: { type: "STRING", data: ["a genre far longer than sixteen"] }, year: { type: "INT32", data: [1] } }),
      "big-genres.parquet": await parquetColumns({ id: { type: "INT32", data: [0, 1] }, genre: { type: "STRING", data: ["a", "b"] }, year: { type: "INT32", data: [1, 2] } }),
    });
    const imports = new ImportJobClient(rest);
    await imports.create({ clusterId: CLUSTER, collectionName: "books", volumeName: "raw", dataPaths: [["books.json"]] });
    await imports.create({ clusterId: CLUSTER, collectionName: "big", volumeName: "raw", dataPaths: [["big.parquet"]] });
    await untilRows(emu, `${CLUSTER}/default/books`, 5);
    await untilRows(emu, `${CLUSTER}/default/big`, 3000);
  }, 60_000);
  afterAll(() => close?.());
  beforeEach(() => afresh(emu, lines));

  const merges = () => emu.requests().filter((r) => r.kind === "merge:create" && r.code === 0);

  const checked = (news: Record<string, unknown>) => checkedInputs(provider, news);

  async function failedCreate(news: Record<string, unknown>): Promise<Recorded> {
    const err = (await provider.create(await checked(news)).catch((e: unknown) => e)) as Recorded;
    expect(err).toBeInstanceOf(ZillizMergeError);
    expect(err.id).toMatch(/^job-/);
    expect(err.properties).toMatchObject({ jobId: err.id, status: "FAILED", __provider });
    return err;
  }

  test("create merges and waits until SUCCESSFUL: matched rows have the new values, unmatched ones nulls, the orphan is absent", async () => {
    const inputs = await checked({ ...base, destCollectionName: "books_genres" });
    const { id, outs } = await provider.create(inputs);
    expect(id).toMatch(/^job-/);
    expect(outs).toMatchObject({ jobId: id, status: "SUCCESSFUL", progress: 100, reason: "", destCollectionName: "books_genres", destDbName: "default", dbName: "default" });
    expect(typeof outs.progress).toBe("number");
    expect(outs.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(outs.endTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(merges()).toHaveLength(1);
    expect(lines.join("\n")).toContain(`job ${id} SUCCESSFUL: collection books_genres created`);

    const page = (await inspectCollection(emu, `${CLUSTER}/default/books_genres`))!;
    expect(page.fields.map((f) => [f.name, f.dataType])).toEqual([["id", "INT64"], ["title", "VARCHAR"], ["genre", "VARCHAR"], ["year", "INT16"]]);
    expect(page.fields.find((f) => f.name === "genre")).toMatchObject({ maxLength: 16, nullable: true });
    expect(page.rowCount).toBe(5);
    const byId = new Map(page.rows.map((r) => [r.id, r]));
    expect(byId.get(1)).toEqual({ id: 1, title: "book 1", genre: "poetry", year: 1850 });
    expect(byId.get(3)).toEqual({ id: 3, title: "book 3", genre: "essay", year: 1580 });
    expect(byId.get(4)).toEqual({ id: 4, title: "book 4", genre: null, year: null });
    expect(byId.has(99)).toBe(false);
    // The source is left as it was.
    expect((await inspectCollection(emu, `${CLUSTER}/default/books`))!.fields.map((f) => f.name)).toEqual(["id", "title"]);

    // The same inputs again: nothing to do; read follows the job by id.
    expect(await provider.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect((await provider.read(id, outs)).props).toEqual(outs);

    // Any change of what is merged is a new merge (replace); settings are an update.
    expect((await provider.diff(id, outs, { ...inputs, mergeField: "title" })).replaces).toEqual(["mergeField"]);
    expect((await provider.diff(id, outs, { ...inputs, newFields: [genre] })).replaces).toEqual(["newFields"]);
    expect((await provider.diff(id, outs, { ...inputs, dataPath: "enrich/other.parquet" })).replaces).toEqual(["dataPath"]);
    expect((await provider.diff(id, outs, { ...inputs, destDbName: "archive" })).replaces).toEqual(["destDbName"]);
    expect(await provider.diff(id, outs, { ...inputs, timeoutSeconds: 60 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    // During preview an unknown dataPath may change: it alone is a replace; the defaulted databases are not.
    expect((await provider.diff(id, outs, { ...inputs, dataPath: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).replaces).toEqual(["dataPath"]);

    // Delete leaves the destination and says so.
    await provider.delete(id, outs);
    expect(await inspectCollection(emu, `${CLUSTER}/default/books_genres`)).toBeDefined();
    expect(lines.at(-1)).toMatch(/leaves collection books_genres \(database default\) in place.*Drop the collection yourself/);
  });

  test("without a source the new fields are added empty", async () => {
    const name = dest();
    const { outs } = await provider.create(await checked({ ...base, volumeName: undefined, dataPath: undefined, destCollectionName: name }));
    expect(outs.status).toBe("SUCCESSFUL");
    const page = (await inspectCollection(emu, `${CLUSTER}/default/${name}`))!;
    expect(page.rows).toHaveLength(5);
    expect(page.rows.every((r) => r.genre === null && r.year === null)).toBe(true);
  });

  test("a destination that exists fails the merge, and the error says to pick a new destCollectionName", async () => {
    const err = await failedCreate({ ...base, destCollectionName: "big" });
    expect(err.message).toMatch(/destination collection big already exists/);
    expect(err.message).toMatch(/The input to fix: destCollectionName \(big\).*pick a new destCollectionName/);
    // A failed merge is recorded; the next up with the same inputs starts a new one.
    const again = await provider.diff(err.id, err.properties, err.properties as any);
    expect(again.replaces).toEqual(["jobId"]);
  });

  test.each([
    ["the Parquet lacks the mergeField", "enrich/no-id.parquet", /has no column id \(the mergeField\)/, /The input to fix: mergeField \(id\)/],
    ["the Parquet lacks a new field", "enrich/no-year.parquet", /has no column year for the new field year/, /The input to fix: newFields\[1\] \(year\)/],
    ["a column's type does not fit dataType", "enrich/year-text.parquet", /column year is STRING .* does not fit the new field year of type INT16/, /The input to fix: newFields\[1\]\.dataType/],
    ["a value out of the type's range", "enrich/year-big.parquet", /year = 70000 does not fit the new field year of type INT16/, /The input to fix: newFields\[1\]\.dataType/],
    ["a VARCHAR value longer than maxLength", "enrich/long.parquet", /genre is 31 characters, longer than its maxLength 16/, /The input to fix: newFields\[0\]\.maxLength \(genre: 16\)/],
    ["dataPath names nothing", "enrich/missing.parquet", /file enrich\/missing.parquet does not exist in volume raw/, /The input to fix: dataPath \(enrich\/missing.parquet\)/],
  ])("%s fails the merge with the service's reason and the input to fix", async (_what, dataPath, reason, fix) => {
    const name = dest();
    const err = await failedCreate({ ...base, dataPath, destCollectionName: name });
    expect(err.message).toMatch(reason);
    expect(err.message).toMatch(fix);
    expect(err.properties.reason).toMatch(reason);
    expect(await inspectCollection(emu, `${CLUSTER}/default/${name}`)).toBeUndefined();
  });

  test("a source collection or volume that does not exist fails the merge, naming the input", async () => {
    const noCollection = await failedCreate({ ...base, collectionName: "ghost", destCollectionName: dest() });
    expect(noCollection.message).toMatch(/collection ghost does not exist in database default[\s\S]*The input to fix: collectionName/);
    const noVolume = await failedCreate({ ...base, volumeName: "nowhere", destCollectionName: dest() });
    expect(noVolume.message).toMatch(/volume nowhere does not exist[\s\S]*The input to fix: volumeName/);
  });

  test("a job fault fails the merge at its progress with the injected reason", async () => {
    emu.faults.add({ target: "merge:job", atProgress: 0, reason: "merge worker lost" });
    const err = await failedCreate({ ...base, destCollectionName: dest() });
    expect(err.message).toMatch(/FAILED at 0%: merge worker lost/);
  });

  test("a timeout keeps the job as a partial failure; the next up follows that same job and never starts a second merge", async () => {
    const name = dest();
    const inputs = await checked({ ...base, collectionName: "big", dataPath: "big-genres.parquet", destCollectionName: name, timeoutSeconds: 1 });
    const err = (await provider.create(inputs).catch((e: unknown) => e)) as Recorded;
    expect(err).toBeInstanceOf(ZillizMergeError);
    expect(err.message).toMatch(/is still (PENDING|IN_PROGRESS) \d+% after timeoutSeconds=1[\s\S]*follows this same job/);
    expect(err.properties).toMatchObject({ jobId: err.id, status: expect.stringMatching(/PENDING|IN_PROGRESS/), __provider });

    const later = { ...inputs, timeoutSeconds: 60 };
    expect(await provider.diff(err.id, err.properties, later)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(lines.join("\n")).toContain(`the recorded job ${err.id} is still`);
    const { outs } = await provider.update(err.id, err.properties, later);
    expect(outs).toMatchObject({ jobId: err.id, status: "SUCCESSFUL", progress: 100 });
    expect(merges()).toHaveLength(1);
    const page = (await inspectCollection(emu, `${CLUSTER}/default/${name}`, "?offset=0&limit=2"))!;
    expect(page.rowCount).toBe(3000);
    expect(page.rows).toEqual([
      { id: 0, title: "book 0", genre: "a", year: 1 },
      { id: 1, title: "book 1", genre: "b", year: 2 },
    ]);
  }, 30_000);

  test("a lost answer while following keeps the job id; waitForCompletion false returns once the merge started", async () => {
    const name = dest();
    emu.faults.add({ target: "jobs:describe", mode: "reset", count: 10 });
    const err = (await provider.create(await checked({ ...base, destCollectionName: name })).catch((e: unknown) => e)) as Recorded;
    expect(err.id).toMatch(/^job-/);
    expect(err.properties).toMatchObject({ jobId: err.id, status: "PENDING", __provider });
    emu.faults.clear();
    const { outs } = await provider.update(err.id, err.properties, await checked({ ...base, destCollectionName: name }));
    expect(outs).toMatchObject({ jobId: err.id, status: "SUCCESSFUL" });
    expect(merges()).toHaveLength(1);

    const quick = await provider.create(await checked({ ...base, destCollectionName: dest(), waitForCompletion: false }));
    expect(quick.outs.status).toMatch(/PENDING|IN_PROGRESS|SUCCESSFUL/);
    expect(lines.join("\n")).toMatch(/not waiting: waitForCompletion is false/);
  });

  test.each([
    ["a dataType outside the list", { newFields: [{ fieldName: "g", dataType: "TEXT" }] }, "newFields.0.dataType", /must be one of VARCHAR, INT8/],
    ["maxLength on a non-VARCHAR field", { newFields: [{ fieldName: "y", dataType: "INT32", maxLength: 4 }] }, "newFields[0].maxLength", /applies only to VARCHAR/],
    ["VARCHAR without maxLength", { newFields: [{ fieldName: "g", dataType: "VARCHAR" }] }, "newFields[0].maxLength", /is required for a VARCHAR field/],
    ["an empty field name", { newFields: [{ fieldName: "", dataType: "BOOL" }] }, "newFields.0.fieldName", /must not be empty/],
    ["a duplicate field name", { newFields: [genre, { ...genre }] }, "newFields[1].fieldName", /is given twice/],
    ["a field that is the mergeField", { newFields: [{ fieldName: "id", dataType: "INT64" }] }, "newFields[0].fieldName", /is the mergeField/],
    ["no new fields", { newFields: [] }, "newFields", /must name at least one field/],
    ["an absolute dataPath", { dataPath: "/etc/passwd" }, "dataPath", /relative POSIX path/],
    ["a dataPath with ..", { dataPath: "enrich/../../x.parquet" }, "dataPath", /relative POSIX path/],
    ["a dataPath that is a URL", { dataPath: "s3://bucket/x.parquet" }, "dataPath", /not a URL/],
    ["both volumeName and stageName", { stageName: "raw" }, "stageName", /not both/],
    ["a source without dataPath", { dataPath: undefined }, "dataPath", /is required with a source/],
    ["dataPath without a source", { volumeName: undefined }, "volumeName", /is required with dataPath/],
    ["the destination is the source", { destCollectionName: "books" }, "destCollectionName", /must differ from collectionName/],
    ["no mergeField", { mergeField: undefined }, "mergeField", /is required/],
  ])("check refuses %s before any call", async (_what, change, property, reason) => {
    const res = await provider.check({}, { ...base, destCollectionName: "x", ...change });
    expect(res.failures).toContainEqual({ property, reason: expect.stringMatching(reason) });
    expect(emu.requests()).toEqual([]);
  });

  test("check lets values unknown during preview through", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const res = await provider.check({}, { ...base, destCollectionName: "x", dataPath: unknown, newFields: unknown });
    expect(res.failures).toEqual([]);
    const fields = [{ fieldName: unknown, dataType: "VARCHAR", maxLength: 8 }, { fieldName: unknown, dataType: "VARCHAR", maxLength: 8 }];
    expect((await provider.check({}, { ...base, destCollectionName: "x", newFields: fields })).failures).toEqual([]);
  });
});
