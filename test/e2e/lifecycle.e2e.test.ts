// The whole product under the real Pulumi engine: scripts/pulumi (the CLI,
// built from Go modules when none is on PATH), the SDK's dynamic-provider
// plugin, a file backend in a temp dir, and the emulator on 127.0.0.1.
// The steps build on each other, in order, like a user's week.
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { startEmulator, Emulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

// Plain JS shared with `npm run demo`.
const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

const STAGE = "e2e_stage";
const PREFIX = `stages/proj-e2e/${STAGE}/`;

describe("end to end under the Pulumi CLI", () => {
  let emu: Emulator;
  let data: string;
  let ws: any;
  let logs = "";

  async function pulumi(args: string[], opts?: object) {
    const r = await ws.must(args, opts);
    logs += r.stdout + r.stderr;
    return r;
  }

  /** Objects under the stage, relative to it, with their bytes. */
  async function staged(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const o of emu.listObjects(PREFIX)) out[o.key.slice(PREFIX.length)] = (await emu.readObject(o.key)).toString();
    return out;
  }

  /** Objects that arrived (successful single PUTs and completed multipart uploads). */
  function puts(): string[] {
    return emu
      .requests()
      .filter((r) => (r.kind === "s3:put" || r.kind === "s3:complete") && r.status === 200)
      .map((r) => r.key!.slice(PREFIX.length))
      .sort();
  }

  /**
   * The files StagedFiles says it would add (+), change (~) or remove (-).
   * diff sends them to the engine's log under the resource's URN.
   */
  function announcedFiles(output: string): string[] {
    return [...output.matchAll(/^\s*([+~-]) data\/(\S+) \(\d+ B(, was \d+ B)?\)$/gm)].map((m) => `${m[1]}${m[2]}`).sort();
  }

  /** The lines `preview --diff` prints for one resource: from its header to the next resource or the summary. */
  function resourceSection(stdout: string, type: string): string[] {
    const lines = stdout.split("\n");
    const start = lines.findIndex((l) => l.includes(`${type}: (`));
    if (start < 0) return [];
    let end = start + 1;
    while (end < lines.length && !/^\s*[~+-]? ?pulumi(-nodejs)?:|^Resources:/.test(lines[end])) end++;
    return lines.slice(start, end);
  }

  beforeAll(async () => {
    emu = await startEmulator();
    data = await mkTmp("zstages-e2e-data-");
    await writeTree(data, { "1.json": '{"rows":[1]}', "2.json": '{"rows":[2]}', "nested/3.npy": "NUMPY3", "4.json": '{"rows":[4]}' });
    ws = createWorkspace(path.join(__dirname, "program"));
    await ws.init();
    await ws.useEmulator(emu);
    await pulumi(["config", "set", "stageName", STAGE]);
    await pulumi(["config", "set", "source", data]);
  });

  afterAll(async () => {
    ws?.cleanup();
    await emu?.stop();
    await rmTmp(data);
  });

  test("1. up creates the stage and uploads every file, byte for byte", async () => {
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toEqual([STAGE]);
    expect(await staged()).toEqual({
      "data/1.json": '{"rows":[1]}',
      "data/2.json": '{"rows":[2]}',
      "data/4.json": '{"rows":[4]}',
      "data/nested/3.npy": "NUMPY3",
    });
    const outputs = JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
    expect(outputs).toMatchObject({ stageName: STAGE, fileCount: 4 });
    expect(outputs.dataPaths).toContainEqual(["data/nested/3.npy"]);
  });

  test("2. a second preview shows no changes and names no file; a second up uploads nothing", async () => {
    const preview = await pulumi(["preview", "--json"]);
    const steps = JSON.parse(preview.stdout).steps as { op: string }[];
    expect(steps.every((s) => s.op === "same")).toBe(true);
    const diff = await pulumi(["preview", "--diff"]);
    expect(diff.stdout + diff.stderr).not.toMatch(/StagedFiles e2e_stage/);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(puts()).toEqual([]);
  });

  test("3. change one, add one, delete one: preview --diff names exactly those, briefly; up sends two, deletes one", async () => {
    await writeTree(data, { "1.json": '{"rows":[1,1]}', "5.json": '{"rows":[5]}' });
    await fs.rm(path.join(data, "2.json"));
    const preview = await pulumi(["preview", "--diff"]);
    const said = preview.stdout + preview.stderr;
    expect(said).toContain(`StagedFiles ${STAGE}/data/: 1 added, 1 changed, 1 removed (26 B to upload); 2 files unchanged`);
    expect(announcedFiles(said)).toEqual(["+5.json", "-2.json", "~1.json"]);
    expect(said).toContain("~ data/1.json (14 B, was 12 B)");
    // One line per file, as a person reads a list: no blank line between them.
    expect(said).toMatch(/2 files unchanged\n(\s*[+~-] data\/\S+ \(.*\)\n){3}/);
    // The resource's own section: its few properties, the fingerprint that moved, no manifest.
    const section = resourceSection(preview.stdout, "zillizcloud:StagedFiles");
    expect(section.join("\n")).toMatch(/~ sourceFingerprint: "[0-9a-f]{64}" => "[0-9a-f]{64}"/);
    expect(section.join("\n")).not.toMatch(/manifest|sha256|mtimeMs/);
    expect(section.length).toBeLessThanOrEqual(12);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(puts()).toEqual(["data/1.json", "data/5.json"]);
    expect(emu.requests().filter((r) => r.kind === "s3:deleteMany" || r.kind === "s3:delete")).toHaveLength(1);
    expect(Object.keys(await staged()).sort()).toEqual(["data/1.json", "data/4.json", "data/5.json", "data/nested/3.npy"]);
  });

  test("4. a new path moves the files and leaves nothing at the old one", async () => {
    await pulumi(["config", "set", "path", "moved/"]);
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(Object.keys(await staged()).sort()).toEqual(["moved/1.json", "moved/4.json", "moved/5.json", "moved/nested/3.npy"]);
  });

  test("5. a stage deleted out of band: refresh follows, the next up recreates it", async () => {
    const res = await fetch(`${emu.url}/v2/stages/${STAGE}`, { method: "DELETE", headers: { Authorization: `Bearer ${emu.apiKey}` } });
    expect(res.status).toBe(200);
    await pulumi(["refresh", "--yes", "--skip-preview"]);
    const state = JSON.parse((await pulumi(["stack", "export"])).stdout);
    const types = state.deployment.resources.map((r: { type: string }) => r.type);
    expect(types).not.toContain("pulumi-nodejs:dynamic/zillizcloud:Stage");
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toEqual([STAGE]);
    expect(Object.keys(await staged())).toHaveLength(4);
  });

  test("7. a fault mid-upload fails clearly; the next up sends only what is missing", async () => {
    await writeTree(data, { "6.json": "six", "7.json": "seven", "8.json": "eight", "9.json": "nine" });
    emu.faults.add({ target: "s3:put", skip: 2, count: 10_000, status: 503 });
    const failed = await ws.run(["up", "--yes", "--skip-preview"]);
    emu.faults.clear();
    logs += failed.stdout + failed.stderr;
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/upload/i);
    expect(failed.stdout + failed.stderr).toMatch(/run again|rerun/i);
    const arrived = puts().filter((k) => /[6-9]\.json$/.test(k));
    expect(arrived.length).toBeGreaterThanOrEqual(2);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    const resent = puts();
    expect(resent.length).toBe(4 - 2);
    for (const key of resent) expect(arrived).not.toContain(key);
    expect(Object.keys(await staged())).toHaveLength(8);
  });

  test("7b. a new connection is an update, never a replacement; the state follows it, still a secret", async () => {
    const stageState = async (showSecrets: boolean) => {
      // Not through pulumi(): the shown secrets must stay out of the logs step 8 checks.
      const out = (await ws.must(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])])).stdout as string;
      return { text: out, stage: JSON.parse(out).deployment.resources.find((x: { type: string }) => x.type.endsWith(":Stage")) };
    };
    await pulumi(["config", "set", "--secret", "connectionApiKey"], { input: emu.apiKey });
    await pulumi(["config", "set", "connectionEndpoint", emu.url]);
    await pulumi(["up", "--yes", "--skip-preview"]);
    // The same emulator under another name: only the connection changes.
    const moved = emu.url.replace("127.0.0.1", "localhost");
    await pulumi(["config", "set", "connectionEndpoint", moved]);
    const preview = (await pulumi(["preview", "--diff"])).stdout;
    expect(preview).toMatch(/~ pulumi-nodejs:dynamic\/zillizcloud:Stage: \(update\)/);
    expect(preview).toMatch(/~ 1 to update/);
    expect(preview).not.toMatch(/replace/);
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toContain(STAGE);
    // --show-secrets keeps the secret's envelope and puts the value in `plaintext`.
    const plain = await stageState(true);
    expect(JSON.parse(plain.stage.outputs.connection.plaintext)).toEqual({ endpoint: moved, apiKey: emu.apiKey });
    const sealed = await stageState(false);
    // Still a secret in the state: ciphertext, no endpoint or key in clear.
    expect(JSON.stringify(sealed.stage.outputs.connection)).toMatch(/ciphertext/);
    // (The endpoint is plain stack config, so it shows there; the Stage keeps it sealed.)
    expect(JSON.stringify(sealed.stage)).not.toContain(moved);
    expect(sealed.text).not.toContain(emu.apiKey);
    // Back to the stack's connection for the steps that follow.
    await pulumi(["config", "rm", "connectionEndpoint"]);
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect((await stageState(true)).stage.outputs.connection).toBeUndefined();
  });

  test("8. neither the state nor the logs contain the API key or any temporary storage credential", async () => {
    const exported = (await pulumi(["stack", "export"])).stdout;
    expect(exported).not.toContain(emu.apiKey);
    // Every credential the emulator handed out during steps 1-7 (it keeps them on disk to survive restarts).
    const issued = JSON.parse(await fs.readFile(path.join(emu.dataDir, "state.json"), "utf8")).credentials as Record<string, string>[];
    expect(issued.length).toBeGreaterThan(0);
    const secrets = issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]);
    for (const secret of secrets) {
      expect(exported).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(exported).toContain("zillizcloud:Stage");
    const stateFiles = await fs.readdir(ws.stateDir, { recursive: true });
    for (const f of stateFiles) {
      const full = path.join(ws.stateDir, f.toString());
      if ((await fs.stat(full)).isFile()) expect(await fs.readFile(full, "utf8")).not.toContain(emu.apiKey);
    }
    expect(logs).not.toContain(emu.apiKey);
  });

  test("9. destroy removes the objects and the stage; the emulator is empty", async () => {
    await pulumi(["destroy", "--yes", "--skip-preview"]);
    expect(emu.listStageNames()).toEqual([]);
    expect(emu.listObjects()).toEqual([]);
  });

  test("6. pulumi import of an existing stage fails on every version, and changes nothing", async () => {
    const res = await fetch(`${emu.url}/v2/stages/create`, {
      method: "POST",
      headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ projectId: "proj-e2e", regionId: "aws-us-west-2", stageName: "adopted" }),
    });
    expect(res.status).toBe(200);
    await pulumi(["config", "rm", "source"]);
    await pulumi(["config", "set", "stageName", "adopted"]);
    await pulumi(["config", "set", "importStage", "adopted"]);
    emu.clearRequests();
    const r = await ws.run(["up", "--yes", "--skip-preview"]);
    logs += r.stdout + r.stderr;
    // The engine's import calls the provider's Read with neither inputs nor
    // state, so the SDK's dynamic-provider server has no provider to load
    // (pulumi/pulumi#16175, open): import fails before our code runs, on
    // every SDK and CLI tested, each with its own wording. The README says so
    // and points to the adoption input instead.
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/import/i);
    expect(emu.listStageNames()).toEqual(["adopted"]); // untouched
    const writes = ["create", "delete", "apply", "s3:put", "s3:initiate", "s3:delete", "s3:deleteMany"];
    expect(emu.requests().filter((q) => writes.includes(q.kind))).toEqual([]);
    const state = JSON.parse((await pulumi(["stack", "export"])).stdout);
    const types = (state.deployment.resources ?? []).map((x: { type: string }) => x.type);
    expect(types).not.toContain("pulumi-nodejs:dynamic/zillizcloud:Stage");
  });

  test("6b. adopt: true takes the same stage over, creating nothing", async () => {
    await pulumi(["config", "rm", "importStage"]);
    await pulumi(["config", "set", "adoptStage", "true"]);
    emu.clearRequests();
    await pulumi(["up", "--yes", "--skip-preview"]);
    expect(emu.requests().filter((q) => q.kind === "create")).toEqual([]);
    expect(emu.listStageNames()).toEqual(["adopted"]);
    const state = JSON.parse((await pulumi(["stack", "export"])).stdout);
    const types = (state.deployment.resources ?? []).map((x: { type: string }) => x.type);
    expect(types).toContain("pulumi-nodejs:dynamic/zillizcloud:Stage");
  });
});
