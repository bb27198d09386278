// scripts/pulumi when a `pulumi` is already on PATH, as it is for most users:
// the CLI it runs must get the caller's stdin, because
// `pulumi config set --secret` reads the key from it. (It once ran the CLI
// inside a loop fed by a pipe, and the key stored was empty.)
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createWorkspace, PULUMI, REPO_ROOT } = require("../../scripts/workspace");

jest.setTimeout(5 * 60_000);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input: string, cwd = REPO_ROOT) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A directory holding one executable `pulumi` with the given shell body. */
async function pulumiOnPath(body: string): Promise<string> {
  const dir = await mkTmp("zstages-path-");
  await writeTree(dir, { pulumi: `#!/bin/sh\n${body}\n` });
  await fs.chmod(path.join(dir, "pulumi"), 0o755);
  return dir;
}

describe("scripts/pulumi with a pulumi on PATH", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rmTmp(d);
  });

  test("a stand-in CLI receives the secret on its stdin, byte for byte", async () => {
    const out = path.join(await mkTmp("zstages-stdin-"), "received");
    dirs.push(path.dirname(out));
    // Records what `config set` reads from stdin, as the real CLI would read the secret.
    const bin = await pulumiOnPath(`case "$1" in version) echo v3.999.0 ;; config) cat > "${out}" ;; esac`);
    dirs.push(bin);
    const key = "key-with spaces\tand-a-tab";
    const r = await run(PULUMI, ["config", "set", "--secret", "zillizcloud:apiKey"], { ...process.env, PATH: `${bin}:${process.env.PATH}` }, key);
    expect(r).toMatchObject({ code: 0 });
    expect(await fs.readFile(out, "utf8")).toBe(key);
  });

  test("a CLI older than the SDK is refused with the fix, and not run", async () => {
    const ran = path.join(await mkTmp("zstages-old-"), "ran");
    dirs.push(path.dirname(ran));
    const bin = await pulumiOnPath(`case "$1" in version) echo v3.100.0 ;; *) touch "${ran}" ;; esac`);
    dirs.push(bin);
    const r = await run(PULUMI, ["up"], { ...process.env, PATH: `${bin}:${process.env.PATH}` }, "");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/v3\.100\.0, older than @pulumi\/pulumi v3\.\d+\.\d+; upgrade it, or set PULUMI_FROM_SOURCE=1/);
    await expect(fs.access(ran)).rejects.toThrow();
  });

  test("the real CLI on PATH stores the key set with config set --secret, encrypted", async () => {
    // The real CLI (the one scripts/pulumi builds), reached as "a pulumi on
    // PATH" through a one-line launcher.
    const bin = await pulumiOnPath(`PULUMI_FROM_SOURCE=1 exec "${PULUMI}" "$@"`);
    dirs.push(bin);
    const ws = createWorkspace(path.join(REPO_ROOT, "test", "e2e", "program"), { env: { PATH: `${bin}:${process.env.PATH}` } });
    try {
      await ws.init();
      const key = "zc-secret-0123456789abcdef";
      await ws.must(["config", "set", "--secret", "zillizcloud:apiKey"], { input: key });
      expect((await ws.must(["config", "get", "zillizcloud:apiKey"])).stdout.trim()).toBe(key);
      const stackFile = await fs.readFile(path.join(ws.dir, "Pulumi.dev.yaml"), "utf8");
      expect(stackFile).toMatch(/zillizcloud:apiKey:\s*\n\s*secure: \S+/);
      expect(stackFile).not.toContain(key);
    } finally {
      ws.cleanup();
    }
  });
});
