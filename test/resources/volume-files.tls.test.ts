// A VolumeFiles lifecycle against the emulator over TLS, as the service
// serves it: the REST API on https, the object endpoint given without a
// scheme. The provider trusts the emulator's CA the way a user makes it
// trust one, through NODE_EXTRA_CA_CERTS, which Node reads at start: so the
// provider runs in a child process (from dist/, built by `npm test`).
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { Emulator, startEmulator } from "../../provider/emulator";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const run = promisify(execFile);
const dist = path.join(__dirname, "../../dist/provider");

/** create volume, create files, change one, read, delete; prints what each step returned. */
const script = `
  const { ZillizClient } = require(${JSON.stringify(dist + "/client/index.js")});
  const { createProvider } = require(${JSON.stringify(dist + "/resources/runtime.js")});
  const { ProviderContext } = require(${JSON.stringify(dist + "/resources/provider-context.js")});
  const fs = require("node:fs");
  (async () => {
    const { EMU_URL: endpoint, EMU_KEY: apiKey, SRC: source } = process.env;
    const config = { "zillizcloud:apiKey": apiKey, "zillizcloud:endpoint": endpoint };
    const context = new ProviderContext({}, undefined, { log: () => {} });
    const volumes = createProvider("volume", context);
    const files = createProvider("volumeFiles", context);
    for (const p of [volumes, files]) await p.configure({ config: { get: (k) => config[k], require: (k) => config[k] } });
    const out = {};
    const vol = await volumes.create({ projectId: "p", regionId: "gcp-us-west1", volumeName: "secure" });
    out.volume = vol.outs;
    const args = { volumeName: "secure", source, path: "data/" };
    const checked = await files.check({}, args);
    const created = await files.create(checked.inputs);
    out.created = { id: created.id, fileCount: created.outs.fileCount, volumeName: created.outs.volumeName };
    fs.writeFileSync(source + "/a.json", "changed");
    const again = await files.check(checked.inputs, args);
    const diff = await files.diff(created.id, created.outs, again.inputs);
    const updated = await files.update(created.id, created.outs, again.inputs);
    out.updated = { changes: diff.changes, totalBytes: updated.outs.totalBytes };
    out.read = (await files.read(created.id, updated.outs)).props.fileCount;
    const c = new ZillizClient({ endpoint, apiKey });
    out.endpoint = (await c.applyUploadTarget({ volumeName: "secure", path: "" })).endpoint;
    await files.delete(created.id, updated.outs);
    await volumes.delete(vol.id, vol.outs);
    out.afterDelete = await c.describeVolume("secure");
    await c.close();
    await context.close();
    process.stdout.write(JSON.stringify(out));
  })().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;

describe("VolumeFiles over TLS", () => {
  let emu: Emulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ tls: true });
    dir = await mkTmp();
  });
  afterAll(async () => {
    await emu.stop();
    await rmTmp(dir);
  });

  test("a whole lifecycle with the CA from NODE_EXTRA_CA_CERTS, Bearer uploads to a schemeless endpoint", async () => {
    await writeTree(dir, { "a.json": "first", "b.json": "second" });
    const env = { ...process.env, EMU_URL: emu.url, EMU_KEY: emu.apiKey, SRC: dir, NODE_EXTRA_CA_CERTS: emu.caPath! };
    const { stdout } = await run(process.execPath, ["-e", script], { env });
    const out = JSON.parse(stdout);
    expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(out.endpoint).toBe(emu.url.slice("https://".length));
    expect(out.volume).toMatchObject({ volumeName: "secure", type: "MANAGED" });
    expect(out.created).toEqual({ id: "secure/data/", fileCount: 2, volumeName: "secure" });
    expect(out.updated).toEqual({ changes: true, totalBytes: "changed".length + "second".length });
    expect(out.read).toBe(2);
    expect(out.afterDelete).toBeUndefined();
    const puts = emu.requests().filter((r) => r.kind === "s3:put" && r.status === 200);
    expect(puts).toHaveLength(3);
    expect(emu.listObjects()).toEqual([]);
  });

  test("without NODE_EXTRA_CA_CERTS the certificate is refused, and the message says how to trust it", async () => {
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = { ...process.env, EMU_URL: emu.url, EMU_KEY: emu.apiKey, SRC: dir };
    const err = await run(process.execPath, ["-e", script], { env }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/NODE_EXTRA_CA_CERTS/);
  });
});
