// scripts/pulumi when a `pulumi` is already on PATH, as it is for most users:
// the CLI it runs must get the caller's stdin, because
// `pulumi config set --secret` reads the key from it. (It once ran the CLI
// inside a loop fed by a pipe, and the key stored was empty.)
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const { createWorkspace, PULUMI, REPO_ROOT } = require("../../scripts/workspace");

const PROGRAM = path.join(REPO_ROOT, "test", "e2e", "program");

jest.setTimeout(5 * 60_000);

/** A directory holding one executable `pulumi` with the given shell body. */
async function pulumiOnPath(body: string): Promise<string> {
  const dir = await mkTmp("zstages-path-");
  await writeTree(dir, { pulumi: `#!/bin/sh\n${body}\n` });
  await fs.chmod(path.join(dir, "pulumi"), 0o755);
  return dir;
}

describe("scripts/pulumi with a pulumi on PATH", () => {
  const dirs: string[] = [];
  const workspaces: { cleanup(): void }[] = [];
  afterAll(async () => {
    for (const d of dirs) await rmTmp(d);
    for (const ws of workspaces) ws.cleanup();
  });

  /** A workspace whose scripts/pulumi sees `bin` first on PATH. */
  function workspaceWith(bin: string) {
    const ws = createWorkspace(PROGRAM, { env: { PATH: `${bin}:${process.env.PATH}` } });
    workspaces.push(ws);
    return ws;
  }

  test("a stand-in CLI receives the secret on its stdin, byte for byte", async () => {
    const out = path.join(await mkTmp("zstages-stdin-"), "received");
    dirs.push(path.dirname(out));
    // Records what `config set` reads from stdin, as the real CLI would read the secret.
    const bin = await pulumiOnPath(`case "$1" in version) echo v3.999.0 ;; config) cat > "${out}" ;; esac`);
    dirs.push(bin);
    const key = "key-with spaces\tand-a-tab";
    const r = await workspaceWith(bin).run(["config", "set", "--secret", "zillizcloud:apiKey"], { input: key });
    expect(r).toMatchObject({ code: 0 });
    expect(await fs.readFile(out, "utf8")).toBe(key);
  });

  test("a CLI older than the SDK is refused with the fix, and not run", async () => {
    const ran = path.join(await mkTmp("zstages-old-"), "ran");
    dirs.push(path.dirname(ran));
    const bin = await pulumiOnPath(`case "$1" in version) echo v3.100.0 ;; *) touch "${ran}" ;; esac`);
    dirs.push(bin);
    const r = await workspaceWith(bin).run(["up"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/v3\.100\.0, older than @pulumi\/pulumi v3\.\d+\.\d+; upgrade it, or set PULUMI_FROM_SOURCE=1/);
    await expect(fs.access(ran)).rejects.toThrow();
  });

  test("the real CLI on PATH stores the key set with config set --secret, encrypted", async () => {
    // The real CLI (the one scripts/pulumi builds), reached as "a pulumi on
    // PATH" through a one-line launcher.
    const bin = await pulumiOnPath(`PULUMI_FROM_SOURCE=1 exec "${PULUMI}" "$@"`);
    dirs.push(bin);
    const ws = workspaceWith(bin);
    await ws.init();
    const key = "zc-secret-0123456789abcdef";
    await ws.must(["config", "set", "--secret", "zillizcloud:apiKey"], { input: key });
    expect((await ws.must(["config", "get", "zillizcloud:apiKey"])).stdout.trim()).toBe(key);
    const stackFile = await fs.readFile(path.join(ws.dir, "Pulumi.dev.yaml"), "utf8");
    expect(stackFile).toMatch(/zillizcloud:apiKey:\s*\n\s*secure: \S+/);
    expect(stackFile).not.toContain(key);
  });
});
