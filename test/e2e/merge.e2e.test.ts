// MergeJob under the real Pulumi CLI against the emulator: Volume ->
// VolumeFiles -> ImportJob -> MergeJob with a second Parquet file, the
// destination collection's rows checked; a changed destination is a new
// merge; destroy leaves the merged collections.
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { inspectCollection, parquetColumns } from "../helpers/merge";

// Plain JS shared with `npm run demo`.
const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

describe("MergeJob end to end under the Pulumi CLI", () => {
  let emu: Emulator;
  let data: string;
  let ws: any;
  const pulumi = (args: string[], opts?: object) => ws.must(args, opts);
  const outputs = async () => JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
  const merges = () => emu.requests().filter((r) => r.kind === "merge:create" && r.code === 0);

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-emulator/books"] });
    data = await mkTmp("zstages-e2e-merge-");
    const ids = Array.from({ length: 50 }, (_, i) => i);
    await writeTree(data, {
      "books.parquet": await parquetColumns({ id: { type: "INT64", data: ids.map(BigInt) }, title: { type: "STRING", data: ids.map((i) => `book ${i}`) } }),
      // Even books have a genre; 1000 matches no book.
      "genres.parquet": await parquetColumns({
        id: { type: "INT64", data: [...ids.filter((i) => i % 2 === 0), 1000].map(BigInt) },
        genre: { type: "STRING", data: [...ids.filter((i) => i % 2 === 0).map((i) => `genre ${i}`), "orphan"] },
        rating: { type: "DOUBLE", data: [...ids.filter((i) => i % 2 === 0).map((i) => i / 10), 9.9] },
      }),
    });
    ws = createWorkspace(path.join(__dirname, "merge-program"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "volumeName", "e2e_merge"]);
    await pulumi(["config", "set", "source", data]);
    await pulumi(["config", "set", "destCollectionName", "books_genres"]);
  });
  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    await rmTmp(data);
  });

  test("1. up uploads, imports, then merges: the new collection has the matched values, nulls elsewhere, no orphan", async () => {
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout + up.stderr).toMatch(/SUCCESSFUL: collection books_genres created/);
    expect(await outputs()).toMatchObject({ importedRows: 50, mergeStatus: "SUCCESSFUL", mergeProgress: 100, destCollectionName: "books_genres" });
    const page = (await inspectCollection(emu, "in01-emulator/default/books_genres"))!;
    expect(page.rowCount).toBe(50);
    const byId = new Map(page.rows.map((r) => [r.id, r]));
    expect(byId.get(4)).toEqual({ id: 4, title: "book 4", genre: "genre 4", rating: 0.4 });
    expect(byId.get(5)).toEqual({ id: 5, title: "book 5", genre: null, rating: null });
    expect(byId.has(1000)).toBe(false);
    expect(merges()).toHaveLength(1);
  });

  test("2. nothing changed: no second merge; a new destination is a new merge (replace)", async () => {
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(merges()).toHaveLength(1);
    await pulumi(["config", "set", "destCollectionName", "books_genres_v2"]);
    const up = await pulumi(["up", "--yes", "--skip-preview"]);
    expect(up.stdout + up.stderr).toMatch(/leaves collection books_genres \(database default\) in place/);
    expect(merges()).toHaveLength(2);
    expect((await inspectCollection(emu, "in01-emulator/default/books_genres_v2"))!.rowCount).toBe(50);
  });

  test("3. destroy removes the files and the volume; the merged collections stay", async () => {
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listVolumeNames()).toEqual([]);
    expect(await inspectCollection(emu, "in01-emulator/default/books_genres")).toBeDefined();
    expect(await inspectCollection(emu, "in01-emulator/default/books_genres_v2")).toBeDefined();
    expect(ws.transcript()).not.toContain(emu.apiKey);
  });
});
