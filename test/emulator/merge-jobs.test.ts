// The emulator's collections and merges over real HTTP: rows imported from
// real JSON, Parquet and .npy files, shown by the inspection route, merged by
// POST /v2/etl/merge and followed with GET /v2/jobs/{jobId}, across restarts.
import { API_ERROR_CODES } from "../../provider/client/api-codes";
import { jobSchema } from "../../provider/client/merge-schemas";
import { parseFieldsSpec } from "../../provider/emulator/collections";
import { EMULATOR_CLI, startEmulatorCli } from "../helpers/emulator-cli";
import { emulatorRuns } from "../helpers/emulator-runs";
import { inspectCollection, parquetColumns, untilRows } from "../helpers/merge";
import { putObjects } from "../helpers/s3";

const CLUSTER = "in01-emulator";

/** A little-endian .npy file of the given dtype and rows (scalars, or vectors of `width`). */
function npyOf(descr: "<i8" | "<f4", values: number[], width?: number): Buffer {
  const rows = width ? values.length / width : values.length;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${width ? `${rows}, ${width}` : `${rows},`}), }`;
  const header = dict + " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + "\n";
  const pre = Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(values.length * (descr === "<i8" ? 8 : 4));
  values.forEach((v, i) => (descr === "<i8" ? data.writeBigInt64LE(BigInt(v), i * 8) : data.writeFloatLE(v, i * 4)));
  return Buffer.concat([pre, Buffer.from(header, "latin1"), data]);
}

describe("emulator collections and merges", () => {
  const runs = emulatorRuns({ apiKey: "merge-test-key", collections: [`${CLUSTER}/books`, `${CLUSTER}/vectors`, `${CLUSTER}/typed`] });
  const { start, stop } = runs;

  async function call(method: "GET" | "POST", pathname: string, body?: unknown): Promise<{ code: number; message?: string; data?: any }> {
    const res = await fetch(runs.emu!.url + pathname, {
      method,
      headers: { Authorization: `Bearer ${runs.emu!.apiKey}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as { code: number; message?: string; data?: unknown };
  }
  const importJob = (collectionName: string, dataPaths: string[][]) =>
    call("POST", "/v2/vectordb/jobs/import/create", { clusterId: CLUSTER, collectionName, volumeName: "raw", dataPaths });
  async function until(jobId: string, status: string): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const job = jobSchema.parse((await call("GET", `/v2/jobs/${jobId}`)).data);
      if (job.status === status) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} never became ${status}`);
  }

  test("an import stores the rows of JSON, Parquet and .npy files; the inspection route pages them; the jobs call shows the import", async () => {
    await start({ collectionFields: { [`${CLUSTER}/typed`]: [{ name: "pk", dataType: "INT64", primaryKey: true }, { name: "note", dataType: "VARCHAR", maxLength: 8 }] } });
    await runs.client!.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" });
    await putObjects(runs.client!, "raw", {
      "a.json": JSON.stringify({ rows: [{ id: 1, title: "one" }, { id: 2, title: "two" }] }),
      "b.parquet": await parquetColumns({ id: { type: "INT64", data: [3n, 4n] }, title: { type: "STRING", data: ["three", "four"] }, extra: { type: "BOOLEAN", data: [true, false] } }),
      "v/id.npy": npyOf("<i8", [7, 8]),
      "v/vector.npy": npyOf("<f4", [0.5, 1, 2, 4], 2),
      "t.json": JSON.stringify([{ pk: 1, note: "n", other: 5 }]),
    });
    const imported = await importJob("books", [["a.json"], ["b.parquet"]]);
    await importJob("vectors", [["v/id.npy", "v/vector.npy"]]);
    await importJob("typed", [["t.json"]]);

    // The first import gave books its fields, from all of its files; a later import's other fields are not kept.
    const books = await untilRows(runs.emu!, `${CLUSTER}/default/books`, 4);
    expect(books.fields).toEqual([{ name: "id", dataType: "INT64", primaryKey: true }, { name: "title", dataType: "VARCHAR" }, { name: "extra", dataType: "BOOL" }]);
    await importJob("books", [["t.json"]]);
    await untilRows(runs.emu!, `${CLUSTER}/default/books`, 5);
    const page = (await inspectCollection(runs.emu!, `${CLUSTER}/default/books`, "?offset=1&limit=3"))!;
    expect(page).toMatchObject({ rowCount: 5, offset: 1 });
    expect(page.rows).toEqual([{ id: 2, title: "two", extra: null }, { id: 3, title: "three", extra: true }, { id: 4, title: "four", extra: false }]);
    // The emulator keeps to the field list and checks no more: a row without those fields is all nulls.
    expect((await inspectCollection(runs.emu!, `${CLUSTER}/default/books`, "?offset=4"))!.rows).toEqual([{ id: null, title: null, extra: null }]);
    const vectors = await untilRows(runs.emu!, `${CLUSTER}/default/vectors`, 2);
    expect((await inspectCollection(runs.emu!, `${CLUSTER}/default/vectors`))!.rows).toEqual([{ id: 7, vector: [0.5, 1] }, { id: 8, vector: [2, 4] }]);
    expect(vectors.fields.map((f) => [f.name, f.dataType])).toEqual([["id", "INT64"], ["vector", "FLOAT_VECTOR"]]);
    // A collection given a schema keeps it: what it lacks is null, what it does not have is dropped.
    await untilRows(runs.emu!, `${CLUSTER}/default/typed`, 1);
    expect((await inspectCollection(runs.emu!, `${CLUSTER}/default/typed`))!.rows).toEqual([{ pk: 1, note: "n" }]);

    const job = jobSchema.parse((await call("GET", `/v2/jobs/${imported.data.jobId}`)).data);
    expect(job).toMatchObject({ jobId: imported.data.jobId, type: "IMPORT", status: "SUCCESSFUL", progress: 100 });
    expect(await call("GET", "/v2/jobs/job-nope")).toMatchObject({ code: API_ERROR_CODES.jobNotFound, message: "job job-nope does not exist" });

    // The inspection route is an admin route: the key is required; an unknown collection is a 404.
    expect((await fetch(`${runs.emu!.url}/__emulator/collections/${CLUSTER}/default/books`)).status).toBe(401);
    expect(await inspectCollection(runs.emu!, `${CLUSTER}/default/nope`)).toBeUndefined();
  });

  test("a merge is refused only for a malformed request or an unknown cluster, and its progress is a string on the wire", async () => {
    await start();
    const req = { clusterId: CLUSTER, collectionName: "books", destCollectionName: "b2", mergeField: "id", newFields: [{ fieldName: "g", dataType: "BOOL" }] };
    expect(await call("POST", "/v2/etl/merge", { ...req, clusterId: "in01-nope" })).toMatchObject({ code: API_ERROR_CODES.clusterNotFound });
    expect(await call("POST", "/v2/etl/merge", { ...req, newFields: [{ fieldName: "g", dataType: "VARCHAR" }] })).toMatchObject({
      code: API_ERROR_CODES.malformedRequest,
      message: expect.stringMatching(/maxLength is required/),
    });
    const { data } = await call("POST", "/v2/etl/merge", req);
    const raw = await call("GET", `/v2/jobs/${data.jobId}`);
    expect(typeof raw.data.progress).toBe("string");
    // books has no rows and no fields yet: it has no field id.
    expect((await until(data.jobId, "FAILED")).reason).toBe("collection books has no field id (the mergeField)");
  });

  test("a folder dataPath merges every same-shaped Parquet file in it; files of other shapes fail the merge", async () => {
    await start();
    await runs.client!.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" });
    await putObjects(runs.client!, "raw", {
      "books.json": JSON.stringify([1, 2, 3].map((id) => ({ id, title: `t${id}` }))),
      "g/part-1.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, tag: { type: "STRING", data: ["one"] } }),
      "g/part-2.parquet": await parquetColumns({ id: { type: "INT64", data: [3n] }, tag: { type: "STRING", data: ["three"] } }),
      "g/notes.txt": "not Parquet: left out of a folder",
      "mixed/a.parquet": await parquetColumns({ id: { type: "INT64", data: [1n] }, tag: { type: "STRING", data: ["one"] } }),
      "mixed/b.parquet": await parquetColumns({ id: { type: "INT64", data: [2n] }, label: { type: "STRING", data: ["two"] } }),
    });
    await importJob("books", [["books.json"]]);
    await untilRows(runs.emu!, `${CLUSTER}/default/books`, 3);
    const merge = (dataPath: string, destCollectionName: string) =>
      call("POST", "/v2/etl/merge", {
        clusterId: CLUSTER,
        collectionName: "books",
        destCollectionName,
        mergeField: "id",
        newFields: [{ fieldName: "tag", dataType: "VARCHAR", params: { maxLength: 8 } }],
        dataSource: { type: "volume", volumeName: "raw", dataPath },
      });
    await until((await merge("g/", "tagged")).data.jobId, "SUCCESSFUL");
    expect((await inspectCollection(runs.emu!, `${CLUSTER}/default/tagged`))!.rows).toEqual([
      { id: 1, title: "t1", tag: "one" },
      { id: 2, title: "t2", tag: null },
      { id: 3, title: "t3", tag: "three" },
    ]);
    const failed = await until((await merge("mixed/", "mixed_tags")).data.jobId, "FAILED");
    expect(failed.reason).toBe("file mixed/b.parquet has other columns than mixed/a.parquet: the files of a folder must be the same shape");
  });

  test("a merge job and the rows it made persist across restarts; a restart mid-job resumes it", async () => {
    await start({ importRowsPerSecond: 1000 });
    await runs.client!.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" });
    const ids = Array.from({ length: 1500 }, (_, i) => i);
    await putObjects(runs.client!, "raw", {
      "books.json": JSON.stringify(ids.map((id) => ({ id, title: `t${id}` }))),
      "g.parquet": await parquetColumns({ id: { type: "INT32", data: [0, 1499] }, rating: { type: "DOUBLE", data: [4.5, 1.5] } }),
    });
    await importJob("books", [["books.json"]]);
    await untilRows(runs.emu!, `${CLUSTER}/default/books`, 1500);
    const { data } = await call("POST", "/v2/etl/merge", {
      clusterId: CLUSTER,
      collectionName: "books",
      destCollectionName: "rated",
      mergeField: "id",
      newFields: [{ fieldName: "rating", dataType: "DOUBLE" }],
      dataSource: { type: "volume", volumeName: "raw", dataPath: "g.parquet" },
    });
    await until(data.jobId, "IN_PROGRESS");
    await stop();
    await start({ importRowsPerSecond: 1000 });
    expect(await until(data.jobId, "SUCCESSFUL")).toMatchObject({ progress: 100, reason: "", endTime: expect.stringMatching(/Z$/) });
    await stop();
    await start();
    const page = (await inspectCollection(runs.emu!, `${CLUSTER}/default/rated`, "?offset=1498"))!;
    expect(page.rowCount).toBe(1500);
    expect(page.rows).toEqual([{ id: 1498, title: "t1498", rating: null }, { id: 1499, title: "t1499", rating: 1.5 }]);
    // The destination now exists: the same merge again fails, and says so.
    const again = await call("POST", "/v2/etl/merge", {
      clusterId: CLUSTER,
      collectionName: "books",
      destCollectionName: "rated",
      mergeField: "id",
      newFields: [{ fieldName: "rating", dataType: "DOUBLE" }],
    });
    expect((await until(again.data.jobId, "FAILED")).reason).toMatch(/destination collection rated already exists/);
  }, 30_000);

  test("the CLI gives a named collection its fields with --collection-fields, and refuses fields for a collection it does not name", async () => {
    expect(parseFieldsSpec("in01-x/db/books=id:INT64:pk,title:VARCHAR:256")).toEqual({
      spec: "in01-x/db/books",
      fields: [{ name: "id", dataType: "INT64", primaryKey: true }, { name: "title", dataType: "VARCHAR", maxLength: 256 }],
    });
    expect(() => parseFieldsSpec("in01-x/books=id:INT64:pk,k:INT64:pk")).toThrow(/more than one primary key/);
    expect(() => parseFieldsSpec("in01-x/books")).toThrow(/no '='/);
    const args = ["--port", "0", "--data-dir", runs.dataDir, "--api-key", "cli-key", "--collection", "in01-cli/books"];
    const { execFile } = await import("node:child_process");
    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [EMULATOR_CLI, ...args, "--collection-fields", "in01-cli/films=id:INT64:pk"], (err, _out, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stderr })),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/collection fields for in01-cli\/films, which is not among the collections/);

    const { url, child, exited } = await startEmulatorCli([...args, "--collection-fields", "in01-cli/books=id:INT64:pk,title:VARCHAR:64"]);
    try {
      const res = await fetch(`${url}/__emulator/collections/in01-cli/default/books`, { headers: { Authorization: "Bearer cli-key" } });
      expect(((await res.json()) as { data: unknown }).data).toMatchObject({
        fields: [{ name: "id", dataType: "INT64", primaryKey: true }, { name: "title", dataType: "VARCHAR", maxLength: 64 }],
        rowCount: 0,
      });
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
