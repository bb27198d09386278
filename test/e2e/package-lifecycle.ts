/**
 * One lifecycle, run under the real CLI for each language that reaches the
 * zillizcloud package through its native plugin (yaml.e2e.test.ts,
 * go.e2e.test.ts): Volume -> VolumeFiles -> ImportJob against the emulator,
 * an update, a no-op preview, refresh, destroy; the API key never in the
 * state or the output. Each program declares the same stack (config
 * `volumeName`, `source`, `trigger` = "first"; the outputs below), so the
 * languages are held to the same behaviour.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

export interface LanguageDoor {
  /** Names the suite ("YAML", "Go") and the volume (`yaml_volume`, `go_volume`). */
  language: string;
  /** A workspace (scripts/workspace.js) holding the program, ready for `stack init`. */
  workspace: () => Promise<any>;
}

export function describePackageLifecycle({ language, workspace }: LanguageDoor): void {
  const volume = `${language.toLowerCase()}_volume`;

  describe(`a ${language} program on the zillizcloud package`, () => {
    let emu: Emulator;
    let data: string;
    let ws: any;
    const pulumi = (args: string[], opts?: object) => ws.must(args, opts);
    const outputs = async () => JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
    const jobs = () => emu.requests().filter((r) => r.kind === "import:create" && r.code === 0);

    beforeAll(async () => {
      emu = await startEmulator();
      data = await mkTmp(`zstages-e2e-${language.toLowerCase()}-`);
      await writeTree(data, { "1.json": '{"rows":[{"id":1}]}', "sub/2.json": '{"rows":[{"id":2},{"id":3}]}' });
      ws = await workspace();
      await ws.init();
      await ws.useEmulator(emu);
      await pulumi(["config", "set", "volumeName", volume]);
      await pulumi(["config", "set", "source", data]);
    });
    afterAll(async () => {
      ws?.cleanup();
      await emu?.stop();
      await rmTmp(data);
    });

    test("1. up creates the volume, uploads the files and imports them; progress is shown under the ImportJob", async () => {
      const up = await pulumi(["up", "--yes", "--skip-preview"]);
      expect(emu.listVolumeNames()).toEqual([volume]);
      expect(await outputs()).toMatchObject({
        volumeName: volume,
        fileCount: 2,
        dataPaths: [["data/1.json"], ["data/sub/2.json"]],
        jobState: "Completed",
        importedRows: 3,
      });
      expect(jobs()).toHaveLength(1);
      // Attached to the resource (host.log with its URN), not to the stack.
      expect(up.stdout).toMatch(
        new RegExp(`zillizcloud:index:ImportJob \\(rows\\):\\n(?:\\s+ImportJob quickstart[^\\n]*\\n)*?\\s+ImportJob quickstart <- volume ${volume}: job \\S+ Completed`),
      );
    });

    test("2. a changed file and a new trigger: the file alone is sent and a second job imports", async () => {
      await writeTree(data, { "1.json": '{"rows":[{"id":1},{"id":4}]}' });
      await pulumi(["config", "set", "trigger", "second"]);
      emu.clearRequests();
      const preview = await pulumi(["preview"]);
      // diff's lines are attached to the VolumeFiles, naming the file.
      expect(preview.stdout).toMatch(
        new RegExp(`zillizcloud:index:VolumeFiles \\(files\\):\\n\\s+VolumeFiles ${volume}/data/: 0 added, 1 changed[^\\n]*\\n\\s+~ data/1\\.json`),
      );
      await pulumi(["up", "--yes", "--skip-preview"]);
      const sent = emu.requests().filter((r) => r.kind === "s3:put" && r.status === 200);
      expect(sent.map((r) => r.key!.replace(/^.*\/data\//, ""))).toEqual(["1.json"]);
      expect(jobs()).toHaveLength(1);
      expect(await outputs()).toMatchObject({ jobState: "Completed", importedRows: 4 });
    });

    test("3. nothing changed: preview shows no change; refresh keeps everything", async () => {
      emu.clearRequests();
      await pulumi(["preview", "--expect-no-changes"]);
      expect(emu.requests().filter((r) => r.kind === "s3:put" || r.kind === "import:create")).toEqual([]);
      await pulumi(["refresh", "--yes", "--skip-preview"]);
      await pulumi(["preview", "--expect-no-changes"]);
      expect(await outputs()).toMatchObject({ fileCount: 2, jobState: "Completed" });
    });

    test("4. the API key is in neither the state nor anything the CLI printed", async () => {
      const exported = (await pulumi(["stack", "export"])).stdout;
      expect(exported).toContain("zillizcloud:index:VolumeFiles");
      expect(exported).not.toContain(emu.apiKey);
      for (const f of await fs.readdir(ws.stateDir, { recursive: true })) {
        const full = path.join(ws.stateDir, f.toString());
        if ((await fs.stat(full)).isFile()) expect(await fs.readFile(full, "utf8")).not.toContain(emu.apiKey);
      }
      expect(ws.transcript()).not.toContain(emu.apiKey);
    });

    test("5. destroy removes the files and the volume", async () => {
      await pulumi(["destroy", "--yes", "--skip-preview"]);
      expect(emu.listVolumeNames()).toEqual([]);
      expect(emu.listObjects()).toEqual([]);
    });
  });
}
