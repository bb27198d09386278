// Bad input, each kind the issue lists: the error names the input and the
// fix, and nothing changes remotely (the emulator's request log shows no
// call that creates, writes or deletes anything).
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { Emulator } from "../../provider/emulator";
import type { ProviderKind } from "../../provider/resources/runtime";
import { listingFingerprint, listSource } from "../../provider/upload";
import { runUnprivileged } from "../helpers/as-user";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { capturingContext, configuredProvider } from "../helpers/provider";
import { emulatorWithStage } from "../helpers/stage";

const MUTATING = new Set(["create", "delete", "s3:put", "s3:part", "s3:initiate", "s3:complete", "s3:delete", "s3:deleteMany"]);

describe("bad input", () => {
  let emu: Emulator;
  let dir: string;
  const closers: (() => Promise<void>)[] = [];

  async function provider(kind: ProviderKind, config: Record<string, string> = {}, said: string[] = []) {
    const { provider: p, close } = await configuredProvider(kind, { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url, ...config }, capturingContext(said));
    closers.push(close);
    return p;
  }
  // A refused call changes nothing: only what the service accepted counts.
  // Accepted writes: HTTP 2xx and, in the service's style, no error code in the envelope.
  const mutations = () => emu.requests().filter((r) => MUTATING.has(r.kind) && r.status >= 200 && r.status < 300 && !r.code);

  beforeAll(async () => {
    emu = await emulatorWithStage({ projectId: "p", stageName: "raw" }, { maxContentLength: 1000 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(async () => {
    dir = await mkTmp();
    await writeTree(dir, { "a.json": "{}" });
    emu.clearRequests();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    await fs.chmod(dir, 0o700).catch(() => undefined);
    await rmTmp(dir);
    expect(mutations()).toEqual([]);
    expect(emu.listStageNames()).toEqual(["raw"]);
  });

  describe.each(["stage", "stagedFiles"] as const)("%s: stage names", (kind) => {
    test.each([
      ["empty", "", /must not be empty/],
      ["too long", "s".repeat(65), /at most 64 characters/],
      ["with a space", "raw data", /only letters, digits, '_' and '-'/],
      ["with a slash", "raw/data", /only letters, digits, '_' and '-'/],
      ["with unicode", "données", /only letters, digits, '_' and '-'/],
    ])("%s is a check failure on stageName that says what is allowed", async (_, stageName, rule) => {
      const p = await provider(kind);
      const inputs = kind === "stage" ? { projectId: "p", regionId: "r", stageName } : { stageName, source: dir };
      const { failures } = await p.check({}, inputs);
      expect(failures).toEqual([{ property: "stageName", reason: expect.stringMatching(rule) }]);
    });
  });

  test.each([
    ["..", "../up", /"\.\." segment/],
    ["a leading /", "/data/", /relative to the stage: write "data\/"/],
    ["backslashes", "data\\2024", /separate directories with "\/"/],
  ])("a path with %s is a check failure on path with the fix", async (_, stagePath, fix) => {
    const p = await provider("stagedFiles");
    const { failures } = await p.check({}, { stageName: "raw", source: dir, path: stagePath });
    expect(failures).toEqual([{ property: "path", reason: expect.stringMatching(fix) }]);
  });

  describe("source", () => {
    async function sourceFailure(source: string, extra: Record<string, unknown> = {}) {
      const p = await provider("stagedFiles");
      const { failures } = await p.check({}, { stageName: "raw", source, ...extra });
      expect(failures).toHaveLength(1);
      expect(failures[0].property).toBe("source");
      return failures[0].reason;
    }

    test("that does not exist", async () => {
      expect(await sourceFailure(path.join(dir, "nope"))).toMatch(/nope does not exist .*check the path/);
    });

    test("that is a FIFO, or holds one", async () => {
      execFileSync("mkfifo", [path.join(dir, "pipe")]);
      expect(await sourceFailure(path.join(dir, "pipe"))).toMatch(/pipe is a FIFO; only regular files can be uploaded/);
      expect(await sourceFailure(dir)).toMatch(/pipe is a FIFO.*leave it out with `exclude`/);
    });

    test("that holds a symlink loop", async () => {
      await fs.symlink("loop-b", path.join(dir, "loop-a"));
      await fs.symlink("loop-a", path.join(dir, "loop-b"));
      expect(await sourceFailure(dir)).toMatch(/loop-[ab] is a symlink loop; remove it or leave it out with `exclude`/);
    });

    test("that holds a symlink pointing outside it, unless followSymlinks says so", async () => {
      const outside = await mkTmp();
      try {
        await writeTree(outside, { "secret.txt": "not for the stage" });
        await fs.symlink(path.join(outside, "secret.txt"), path.join(dir, "escape.txt"));
        expect(await sourceFailure(dir)).toMatch(/escape\.txt .*outside the source.*followSymlinks/);
        const p = await provider("stagedFiles");
        const ok = await p.check({}, { stageName: "raw", source: dir, followSymlinks: "any" });
        expect(ok.failures).toEqual([]);
        // The provider's fingerprint is that of a listing that holds the link's target.
        const listing = await listSource(dir, { followSymlinks: "any" });
        expect(listing.files.map((f) => f.rel)).toEqual(["a.json", "escape.txt"]);
        expect(ok.inputs.sourceFingerprint).toBe(listingFingerprint(listing));
      } finally {
        await rmTmp(outside);
      }
    });

    test("that holds a file the provider may not read (checked without the privilege to override permissions)", async () => {
      await writeTree(dir, { "locked.json": "{}" });
      await fs.chmod(path.join(dir, "locked.json"), 0o000);
      const result = await runUnprivileged(
        `const { scanSource } = require(process.env.DIST + "/upload");
         scanSource(process.env.SRC).then(
           (s) => console.log(JSON.stringify({ files: Object.keys(s.manifest) })),
           (e) => console.log(JSON.stringify({ field: e.field, message: e.message })));`,
        { SRC: dir },
      );
      expect(result.field).toBe("source");
      expect(result.message).toMatch(/locked\.json cannot be read \(EACCES\); fix its permissions or leave it out with `exclude`/);
    });
  });

  test("an object key longer than S3 allows fails before any byte is sent, naming the file", async () => {
    const deep = Array.from({ length: 5 }, (_, i) => `${String(i)}${"d".repeat(200)}`).join("/");
    await writeTree(dir, { [`${deep}/file.json`]: "{}" });
    const p = await provider("stagedFiles");
    const { inputs, failures } = await p.check({}, { stageName: "raw", source: dir, path: "data/" });
    expect(failures).toEqual([]);
    const err = await p.create(inputs).catch((e: Error) => e);
    expect(String(err as Error)).toMatch(/file\.json.*1024/);
    expect(String(err as Error)).toMatch(/shorten the file name, its directories or the stage path, or exclude it/);
  });

  test("a total above the stage's maxContentLength is refused with nothing uploaded", async () => {
    await writeTree(dir, { "big.json": "x".repeat(2000) });
    const p = await provider("stagedFiles");
    const { inputs } = await p.check({}, { stageName: "raw", source: dir });
    const err = await p.create(inputs).catch((e: Error) => e);
    expect(String(err as Error)).toMatch(/exceed the stage's upload limit of 1000 bytes .*nothing was uploaded.*exclude/);
  });

  test("include and exclude patterns that match nothing are warnings, not silence and not failures", async () => {
    const warnings: string[] = [];
    const p = await provider("stagedFiles", {}, warnings);
    const { failures } = await p.check({}, { stageName: "raw", source: dir, include: ["**/*.parquet", "*.json"], exclude: ["tmp/**"] });
    expect(failures).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(/^warning: .*include pattern "\*\*\/\*\.parquet" matches no file; .*fix the pattern or remove it/),
      expect.stringMatching(/^warning: .*exclude pattern "tmp\/\*\*" matches no file/),
    ]);
  });

  test.each([
    ["not a URL", "not a url", /zillizcloud:endpoint: "not a url" is not a URL; use e\.g\. https:\/\/api\.cloud\.zilliz\.com/],
    ["plain http off loopback", "http://api.example.com", /zillizcloud:endpoint: plain http is accepted only for 127\.0\.0\.1\/localhost .*use https:\/\/api\.example\.com/],
  ])("an endpoint that is %s names the config key and the fix", async (_, endpoint, message) => {
    const p = await provider("stage", { "zillizcloud:endpoint": endpoint });
    const err = await p.create({ projectId: "p", regionId: "r", stageName: "never" }).catch((e: Error) => e);
    expect(String(err as Error)).toMatch(message);
  });

  test("an API key the service refuses names where the key is set, and never shows it", async () => {
    const p = await provider("stage", { "zillizcloud:apiKey": "refused-key-0123456789" });
    const err = await p.create({ projectId: "p", regionId: "r", stageName: "never" }).catch((e: Error) => e);
    expect(String(err as Error)).toMatch(/code 21119.*pulumi config set --secret zillizcloud:apiKey/);
    expect(String(err as Error)).not.toContain("refused-key-0123456789");
  });
});
