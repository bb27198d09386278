// The provider only ever reads the source: a tree the user may read but not
// write (files 0444, directories 0555, checked in a process that may not override permissions) scans and
// uploads completely, and is left exactly as it was.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Emulator } from "../../provider/emulator";
import { runUnprivileged } from "../helpers/as-user";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { emulatorWithStage } from "../helpers/stage";

describe("files are opened read-only", () => {
  let emu: Emulator;
  let dir: string;

  beforeAll(async () => {
    emu = await emulatorWithStage({ projectId: "p", stageName: "ro" });
    dir = await mkTmp();
  });
  afterAll(async () => {
    await emu.stop();
    for await (const d of walkDirs(dir)) await fs.chmod(d, 0o755);
    await rmTmp(dir);
  });

  async function* walkDirs(root: string): AsyncGenerator<string> {
    yield root;
    for (const e of await fs.readdir(root, { withFileTypes: true })) if (e.isDirectory()) yield* walkDirs(path.join(root, e.name));
  }

  test("a tree the user cannot write to uploads in full and is not modified", async () => {
    const src = path.join(dir, "src");
    await writeTree(src, { "a.json": "{}", "sub/b.npy": "NUMPY", "sub/deeper/c.parquet": "PAR1" });
    const files = ["a.json", "sub/b.npy", "sub/deeper/c.parquet"];
    for (const f of files) await fs.chmod(path.join(src, f), 0o444);
    for (const d of ["sub/deeper", "sub", "."]) await fs.chmod(path.join(src, d), 0o555);
    const before = await Promise.all(files.map((f) => fs.stat(path.join(src, f))));

    const result = await runUnprivileged(
      `const { scanSource, planChanges, executeUpload } = require(process.env.DIST + "/upload");
       const { StageClient } = require(process.env.DIST + "/client");
       (async () => {
         const scan = await scanSource(process.env.SRC);
         const plan = planChanges(undefined, scan.manifest);
         const client = new StageClient({ endpoint: process.env.ENDPOINT, apiKey: process.env.KEY });
         const out = await executeUpload(
           { stageName: "ro", path: "", root: scan.root, manifest: scan.manifest, upload: plan.upload, delete: [] },
           { targets: client });
         await client.close();
         return { uploaded: out.uploaded };
       })().then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ error: e.message })));`,
      { SRC: src, ENDPOINT: emu.url, KEY: emu.apiKey },
    );
    expect(result).toEqual({ uploaded: files });
    const stored = emu.listObjects("stages/p/ro/").map((o) => o.key.slice("stages/p/ro/".length)).sort();
    expect(stored).toEqual(files);
    const after = await Promise.all(files.map((f) => fs.stat(path.join(src, f))));
    expect(after.map((s) => [s.mode, s.size, s.mtimeMs])).toEqual(before.map((s) => [s.mode, s.size, s.mtimeMs]));
  });
});
