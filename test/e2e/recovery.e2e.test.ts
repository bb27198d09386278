// Interrupts under the real CLI, as users make them: the CLI killed with -9
// in the middle of an upload, and a double Ctrl-C in the middle of multipart
// uploads. Then the commands the README gives for repair (`pulumi cancel`,
// `refresh --clear-pending-creates`, the next `up`), and what they must
// achieve: only what had not arrived is sent, every object is owned by the
// resource again, and no incomplete multipart upload is left.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { StageClient } from "../../provider/client";
import { startEmulator, Emulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { descendants, waitGone } from "../helpers/processes";
import { pendingUploads } from "../helpers/s3";

const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(5 * 60_000);

const KiB = 1024;
const MiB = 1024 * KiB;

describe("recovery after an interrupted up", () => {
  let emu: Emulator;
  let client: StageClient;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    emu = await startEmulator();
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await client?.close();
    await emu?.stop();
  });

  /** A workspace on the e2e program with `files` (relative path -> bytes) as its source. */
  async function workspace(stageName: string, files: Record<string, Buffer>) {
    const data = await mkTmp("zstages-e2e-recovery-");
    await writeTree(data, files);
    const ws = createWorkspace(path.join(__dirname, "program"));
    cleanups.push(() => ws.cleanup(), () => rmTmp(data));
    await ws.init();
    await ws.useEmulator(emu);
    await ws.must(["config", "set", "stageName", stageName]);
    await ws.must(["config", "set", "source", data]);
    return { ws, data, prefix: `stages/proj-e2e/${stageName}/data/` };
  }

  /** The repair the README gives: release the lock, forget the create that never finished, run again. */
  async function repair(ws: any): Promise<{ stdout: string; stderr: string }> {
    await ws.must(["cancel", "--yes"]).catch(() => undefined); // nothing to cancel is fine
    await ws.must(["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]);
    return ws.must(["up", "--yes", "--skip-preview"]);
  }

  async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Files sent: a CopyObject (an adopted object getting its owner mark, no payload) is not one.
  const putKeys = (prefix: string) =>
    emu
      .requests()
      .filter((r) => ((r.kind === "s3:put" && r.bytes > 0) || r.kind === "s3:complete") && r.status === 200 && r.key?.startsWith(prefix))
      .map((r) => r.key!.slice(prefix.length));

  test("kill -9 of the CLI mid-upload: its processes go too; after repair only the missing files are sent and every object is owned", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 2000; i++) files[`part-${String(i).padStart(4, "0")}.bin`] = randomBytes(64 * KiB);
    const { ws, data, prefix } = await workspace("killed", files);

    // Slow enough that the kill lands in the middle: 2,000 PUTs at 16 in flight take about 4 s.
    emu.faults.add({ target: "s3:put", count: 100_000, delayMs: 30 });
    emu.clearRequests();
    const run = ws.start(["up", "--yes", "--skip-preview"]);
    await until("the first 300 files to arrive", () => putKeys(prefix).length >= 300);
    const tree = await descendants(run.child.pid);
    const names = tree.map((p) => p.command).join("\n");
    expect(names).toMatch(/pulumi-language-nodejs/);
    expect(names).toMatch(/dynamic-provider/);
    process.kill(run.child.pid, "SIGKILL");
    const killed = await run.result;
    expect(killed.signal).toBe("SIGKILL");
    // The language host, the program and the provider all exit on their own.
    const left = await waitGone(tree.map((p) => p.pid), 5_000);
    expect(tree.filter((p) => left.includes(p.pid))).toEqual([]);
    emu.faults.clear();
    const arrived = new Set(putKeys(prefix));
    expect(arrived.size).toBeGreaterThanOrEqual(300);
    expect(arrived.size).toBeLessThan(2000);
    // Nothing arrives once the provider is gone.
    const stored = emu.listObjects(prefix).map((o) => o.key.slice(prefix.length));
    expect(new Set(stored)).toEqual(arrived);

    // The killed CLI left its lock: nothing runs until `pulumi cancel`.
    const locked = await ws.run(["up", "--yes", "--skip-preview"]);
    expect(locked.code).not.toBe(0);
    expect(locked.stdout + locked.stderr).toMatch(/locked/);
    emu.clearRequests();
    const repaired = await repair(ws);
    const sent = putKeys(prefix);
    expect(sent.filter((k) => arrived.has(k))).toEqual([]);
    expect(sent.length + arrived.size).toBe(2000);
    expect(repaired.stdout + repaired.stderr).toMatch(new RegExp(`adopted ${arrived.size.toLocaleString("en-US")} object\\(s\\)`));
    expect(emu.listObjects(prefix)).toHaveLength(2000);

    // Adopted objects are owned: a file deleted locally is removed from the stage.
    const gone = [...arrived].slice(0, 5);
    for (const rel of gone) await fs.rm(path.join(data, rel));
    await ws.must(["up", "--yes", "--skip-preview"]);
    const remaining = new Set(emu.listObjects(prefix).map((o) => o.key.slice(prefix.length)));
    expect(remaining.size).toBe(1995);
    for (const rel of gone) expect(remaining.has(rel)).toBe(false);
  });

  test("a double Ctrl-C mid-multipart: no incomplete multipart upload after the next up", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 3; i++) files[`big-${i}.bin`] = randomBytes(40 * MiB);
    const { ws, prefix } = await workspace("sigint", files);

    emu.faults.add({ target: "s3:part", count: 100_000, delayMs: 2_000 });
    emu.clearRequests();
    // A process group of its own, signalled as a whole, as a terminal does on Ctrl-C.
    const run = ws.start(["up", "--yes", "--skip-preview"], { detached: true });
    await until("the multipart uploads to start", () => emu.requests().filter((r) => r.kind === "s3:initiate").length >= 3);
    process.kill(-run.child.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-run.child.pid, "SIGINT");
    const interrupted = await run.result;
    expect(interrupted.code).not.toBe(0);
    emu.faults.clear();
    // The provider aborts what it had in flight as it stops.
    await until("the provider to abort its uploads", () => emu.requests().filter((r) => r.kind === "s3:abort").length >= 3, 10_000);

    emu.clearRequests();
    await repair(ws);
    expect(await pendingUploads(client, "sigint")).toEqual([]);
    expect(emu.listObjects(prefix).map((o) => o.key.slice(prefix.length)).sort()).toEqual(Object.keys(files).sort());
  });
});
