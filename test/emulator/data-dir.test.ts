// The emulator's data directory is its own, and its objects survive a crash
// whole: the CLI is killed (SIGKILL) in the middle of a commit, between the
// new content and the metadata that makes it visible, and restarted on the
// same directory. Readers then see the old version or nothing, never new
// bytes under old metadata. Runs the built CLI (npm run build first).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startEmulator } from "../../provider/emulator";
import { postJson, s3For, volumeTarget } from "../helpers/volume-target";
import { collect } from "../helpers/child";
import { EMULATOR_CLI, startEmulatorCli } from "../helpers/emulator-cli";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const API_KEY = "crash-test-key";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("the emulator's data directory", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkTmp("zemu-data-");
  });
  afterEach(() => rmTmp(dir));

  test("a directory that is neither empty nor the emulator's is refused, named, and left as it was", async () => {
    await writeTree(dir, { "package.json": "{}", "tmp/keep.txt": "mine" });
    await expect(startEmulator({ dataDir: dir })).rejects.toThrow(new RegExp(`data directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not empty and was not made by the emulator`));
    const cli = spawn(process.execPath, [EMULATOR_CLI, "--data-dir", dir, "--api-key", API_KEY], { stdio: ["ignore", "pipe", "pipe"] });
    const { code, stderr } = await collect(cli);
    expect(code).toBe(1);
    expect(stderr).toContain(dir);
    expect(await fs.readFile(path.join(dir, "tmp/keep.txt"), "utf8")).toBe("mine");
    expect((await fs.readdir(dir)).sort()).toEqual(["package.json", "tmp"]);
  });

  test("an empty directory is taken and marked; the emulator opens its own directory again", async () => {
    const first = await startEmulator({ dataDir: dir, apiKey: API_KEY });
    await postJson({ url: first.url, apiKey: API_KEY }, "/v2/volumes/create", { projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "v" });
    await first.stop();
    expect(await fs.readdir(dir)).toContain(".zilliz-stage-emulator");
    const again = await startEmulator({ dataDir: dir, apiKey: API_KEY });
    expect(again.listVolumeNames()).toEqual(["v"]);
    await again.stop();
  });

  test("without a directory it makes a temporary one, and removes it when it stops or fails to start (one it was given stays, above)", async () => {
    const emu = await startEmulator({ apiKey: API_KEY });
    try {
      await postJson({ url: emu.url, apiKey: API_KEY }, "/v2/volumes/create", { projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "v" });
      expect(await fs.readdir(emu.dataDir)).toContain(".zilliz-stage-emulator");
    } finally {
      await emu.stop();
    }
    await expect(fs.stat(emu.dataDir)).rejects.toMatchObject({ code: "ENOENT" });
    // A start refused after the directory was made (the CLI, its temp directory in an empty one of ours): nothing is left.
    const cli = spawn(process.execPath, [EMULATOR_CLI, "--api-key", API_KEY, "--collection", "no-slash"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TMPDIR: dir } });
    const { code, stderr } = await collect(cli);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no-slash/);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  test.each([
    ["an overwrite: the old version stays, whole", true],
    ["a new key: nothing becomes visible", false],
  ])("killed mid-commit, %s", async (_name, hadOldVersion) => {
    const data = path.join(dir, "data");
    const pauseFile = path.join(dir, "pause");
    const env = { ...process.env, ZILLIZ_EMULATOR_CRASH_PAUSE_FILE: pauseFile };
    const first = await startEmulatorCli(["--port", "0", "--data-dir", data, "--api-key", API_KEY], { env });
    let stderr = "";
    first.child.stderr!.on("data", (d) => (stderr += d));
    const t = await volumeTarget({ url: first.url, apiKey: API_KEY }, "v", { projectId: "proj-1" });
    const key = `${t.volumePrefix}data.json`;
    // The target's endpoint is the first run's; each run's own URL is where it answers.
    const s3 = s3For(t, { endpoint: first.url });
    if (hadOldVersion) await s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "old version" }));

    await fs.writeFile(pauseFile, "");
    const put = s3.send(new PutObjectCommand({ Bucket: t.bucketName, Key: key, Body: "NEW VERSION, LONGER" })).catch((e: unknown) => e);
    for (let i = 0; i < 200 && !stderr.includes(`commit paused: ${key}`); i++) await new Promise((r) => setTimeout(r, 25));
    expect(stderr).toContain(`commit paused: ${key}`);
    first.child.kill("SIGKILL");
    await first.exited;
    await put;
    s3.destroy();
    await fs.rm(pauseFile);

    const second = await startEmulatorCli(["--port", "0", "--data-dir", data, "--api-key", API_KEY], { env });
    const again = s3For(t, { endpoint: second.url });
    try {
      if (hadOldVersion) {
        const head = await again.send(new HeadObjectCommand({ Bucket: t.bucketName, Key: key }));
        expect(head).toMatchObject({ ContentLength: "old version".length, ETag: `"${md5("old version")}"` });
        const got = await again.send(new GetObjectCommand({ Bucket: t.bucketName, Key: key }));
        expect(await got.Body!.transformToString()).toBe("old version");
      } else {
        const err = await again.send(new HeadObjectCommand({ Bucket: t.bucketName, Key: key })).catch((e: unknown) => e);
        expect(err).toMatchObject({ $metadata: { httpStatusCode: 404 } });
      }
      // The new content, never committed, was collected at open: one content file per object, no more.
      const files = await fs.readdir(path.join(data, "objects"));
      expect(files.filter((f) => f.endsWith(".bin"))).toHaveLength(hadOldVersion ? 1 : 0);
    } finally {
      again.destroy();
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });
});
