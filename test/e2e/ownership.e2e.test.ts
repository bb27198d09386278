// Who owns an object, under the real Pulumi engine (issue 16). The engine
// creates a replacement before it deletes what it replaces (renaming a
// resource without an alias, `up --replace`), and two stacks may point a
// VolumeFiles at the same volume and path. In each case one side is then
// destroyed, and what must hold is checked in the emulator's store, not in
// what the provider says: every object the other side's state lists is
// there with the content that state records, and nothing is written when a
// run is refused.
import { createHash } from "node:crypto";
import * as path from "node:path";
import { ZillizClient } from "../../provider/client";
import { startEmulator, Emulator } from "../../provider/emulator";
import { decodeManifest } from "../../provider/upload/manifest-codec";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

const { createWorkspace } = require("../../scripts/workspace");

jest.setTimeout(10 * 60_000);

const PROGRAM = path.join(__dirname, "ownership");
const FILES_TYPE = "pulumi-nodejs:dynamic/zillizcloud:VolumeFiles";
const THREE = { "1.json": '{"rows":[1]}', "2.json": '{"rows":[2]}', "nested/3.json": '{"rows":[3]}' };
/** What a refused run must not send (a CopyObject is an `s3:put` with a copy source). */
const WRITES = ["s3:put", "s3:initiate", "s3:part", "s3:complete", "s3:delete", "s3:deleteMany", "s3:abort"];

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("object ownership under the Pulumi CLI", () => {
  let emu: Emulator;
  let client: ZillizClient;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    emu = await startEmulator();
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await client?.close();
    await emu?.stop();
  });

  /** A volume made outside Pulumi, so that neither stack owns (or deletes) the volume itself; returns its object prefix for `data/`. */
  async function volume(volumeName: string): Promise<string> {
    await client.createVolume({ projectId: "proj-e2e", regionId: "aws-us-west-2", volumeName });
    const { prefix } = await client.applyUploadTarget({ volumeName, path: "" });
    return `${prefix}data/`;
  }

  async function source(files: Record<string, string>): Promise<string> {
    const dir = await mkTmp("zstages-e2e-own-");
    cleanups.push(() => rmTmp(dir));
    await writeTree(dir, files);
    return dir;
  }

  /**
   * A workspace on the ownership program with `stacks` (the first is
   * created by `init`), each pointed at the emulator and at `volumeName`.
   * `cli(stack, args)` runs a command on that stack and throws on failure;
   * `run` returns the result whatever the exit code.
   */
  async function workspace(volumeName: string, stacks: string[]) {
    const ws = createWorkspace(PROGRAM, { stack: stacks[0] });
    cleanups.push(() => ws.cleanup());
    await ws.init();
    for (const s of stacks.slice(1)) await ws.must(["stack", "init", s, "--non-interactive"]);
    const cli = (stack: string, args: string[], opts?: object) => ws.must([...args, "--stack", stack], opts);
    const run = (stack: string, args: string[], opts?: object) => ws.run([...args, "--stack", stack], opts);
    for (const s of stacks) {
      await cli(s, ["config", "set", "zillizcloud:endpoint", emu.url]);
      await cli(s, ["config", "set", "--secret", "zillizcloud:apiKey"], { input: emu.apiKey });
      await cli(s, ["config", "set", "volumeName", volumeName]);
    }
    return { ws, cli, run };
  }

  /** What the volume holds under `prefix`: relative path -> SHA-256 of the bytes. */
  async function stored(prefix: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const o of emu.listObjects(prefix)) out[o.key.slice(prefix.length)] = sha256(await emu.readObject(o.key));
    return out;
  }

  /** The VolumeFiles resources in a stack's state: name, URN and the files its manifest lists (relative path -> SHA-256). */
  async function stateFiles(cli: (s: string, a: string[]) => Promise<{ stdout: string }>, stack: string) {
    const exported = JSON.parse((await cli(stack, ["stack", "export"])).stdout);
    const resources = (exported.deployment.resources ?? []) as { urn: string; type: string; outputs?: { manifest?: unknown } }[];
    return resources
      .filter((r) => r.type === FILES_TYPE)
      .map((r) => {
        const manifest = decodeManifest(r.outputs?.manifest) as unknown;
        // Whatever shape the codec hands back (an object today, maybe a Map): path -> entry.
        const entries = manifest instanceof Map ? [...manifest.entries()] : Object.entries(manifest as object);
        const files: Record<string, string> = {};
        for (const [rel, entry] of entries) files[rel as string] = (entry as { sha256: string }).sha256;
        return { name: r.urn.slice(r.urn.lastIndexOf("::") + 2), urn: r.urn, files };
      });
  }

  const hashes = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha256(Buffer.from(v))]));

  test("renaming the VolumeFiles in code (no alias): all 3 objects stay, the new resource lists them, and its destroy removes them", async () => {
    const prefix = await volume("own_rename");
    const { cli } = await workspace("own_rename", ["dev"]);
    await cli("dev", ["config", "set", "source", await source(THREE)]);
    await cli("dev", ["up", "--yes", "--skip-preview"]);
    expect(await stored(prefix)).toEqual(hashes(THREE));

    await cli("dev", ["config", "set", "filesName", "batch"]);
    const renamed = await cli("dev", ["up", "--yes", "--skip-preview"]);
    // The engine created `batch` and then deleted `files`: the case that lost everything.
    expect(renamed.stdout).toMatch(/1 created/);
    expect(renamed.stdout).toMatch(/1 deleted/);
    expect(Object.keys(await stored(prefix)).length).toBe(3);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    const [batch, ...others] = await stateFiles(cli, "dev");
    expect(others).toEqual([]);
    expect(batch.name).toBe("batch");
    expect(batch.files).toEqual(await stored(prefix));
    // And the state agrees with the store: nothing to do.
    await cli("dev", ["preview", "--expect-no-changes"]);

    // The objects are the new resource's: its destroy removes them (none is left behind as someone else's).
    await cli("dev", ["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects(prefix)).toEqual([]);
  });

  test("up --replace <urn>: all 3 objects stay, the replacement lists them, and its destroy removes them", async () => {
    const prefix = await volume("own_replace");
    const { cli } = await workspace("own_replace", ["dev"]);
    await cli("dev", ["config", "set", "source", await source(THREE)]);
    await cli("dev", ["up", "--yes", "--skip-preview"]);
    const [before] = await stateFiles(cli, "dev");
    expect(before.files).toEqual(hashes(THREE));

    const replaced = await cli("dev", ["up", "--yes", "--skip-preview", "--replace", before.urn]);
    expect(replaced.stdout).toMatch(/1 replaced/);
    expect(Object.keys(await stored(prefix)).length).toBe(3);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    const after = await stateFiles(cli, "dev");
    expect(after.map((r) => r.urn)).toEqual([before.urn]);
    expect(after[0].files).toEqual(await stored(prefix));
    await cli("dev", ["preview", "--expect-no-changes"]);

    await cli("dev", ["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects(prefix)).toEqual([]);
  });

  test("two stacks, the same content on one volume and path: destroying dev leaves every object staging lists", async () => {
    const prefix = await volume("own_same");
    const { cli } = await workspace("own_same", ["dev", "staging"]);
    await cli("dev", ["config", "set", "source", await source(THREE)]);
    await cli("staging", ["config", "set", "source", await source(THREE)]);
    await cli("dev", ["up", "--yes", "--skip-preview"]);
    await cli("staging", ["up", "--yes", "--skip-preview"]);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    for (const stack of ["dev", "staging"]) expect((await stateFiles(cli, stack))[0].files).toEqual(hashes(THREE));

    await cli("dev", ["destroy", "--yes", "--skip-preview"]);
    expect(Object.keys(await stored(prefix)).length).toBe(3);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    const [staging] = await stateFiles(cli, "staging");
    expect(staging.files).toEqual(await stored(prefix));
    // staging finds nothing missing: its next refresh and preview agree with the store.
    await cli("staging", ["refresh", "--yes", "--skip-preview"]);
    expect((await stateFiles(cli, "staging"))[0].files).toEqual(await stored(prefix));
    await cli("staging", ["preview", "--expect-no-changes"]);

    await cli("staging", ["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects(prefix)).toEqual([]);
  });

  test("two stacks, the same content on one path, the other order: destroying staging (which joined dev's objects) leaves every object dev lists", async () => {
    const prefix = await volume("own_same_rev");
    const { cli } = await workspace("own_same_rev", ["dev", "staging"]);
    await cli("dev", ["config", "set", "source", await source(THREE)]);
    await cli("staging", ["config", "set", "source", await source(THREE)]);
    await cli("dev", ["up", "--yes", "--skip-preview"]);
    await cli("staging", ["up", "--yes", "--skip-preview"]);

    // staging co-owns dev's objects (the same content), so its destroy only leaves their owner set:
    // right after it, before any refresh of dev, every object dev lists is there.
    await cli("staging", ["destroy", "--yes", "--skip-preview"]);
    expect(Object.keys(await stored(prefix)).length).toBe(3);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    const [dev] = await stateFiles(cli, "dev");
    expect(dev.files).toEqual(await stored(prefix));
    // dev finds nothing missing: its refresh and preview agree with the store.
    await cli("dev", ["refresh", "--yes", "--skip-preview"]);
    expect((await stateFiles(cli, "dev"))[0].files).toEqual(await stored(prefix));
    await cli("dev", ["preview", "--expect-no-changes"]);

    await cli("dev", ["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects(prefix)).toEqual([]);
  });

  test("two stacks, different content on one path: the second up is refused before any write, naming the key and dev's URN; takeOver: true overwrites", async () => {
    const prefix = await volume("own_diff");
    const { cli, run } = await workspace("own_diff", ["dev", "staging"]);
    const theirs = { ...THREE, "1.json": '{"rows":[1,"staging"]}' };
    await cli("dev", ["config", "set", "source", await source(THREE)]);
    await cli("staging", ["config", "set", "source", await source(theirs)]);
    await cli("dev", ["up", "--yes", "--skip-preview"]);
    const [dev] = await stateFiles(cli, "dev");

    emu.clearRequests();
    const refused = await run("staging", ["up", "--yes", "--skip-preview"]);
    const said = refused.stdout + refused.stderr;
    expect(refused.code).not.toBe(0);
    expect(said).toContain("1.json");
    expect(said).toContain(dev.urn);
    expect(said).toMatch(/takeOver: true/);
    expect(emu.requests().filter((r) => WRITES.includes(r.kind))).toEqual([]);
    expect(await stored(prefix)).toEqual(hashes(THREE));
    // The refused create recorded no resource that would claim dev's objects.
    expect(await stateFiles(cli, "staging")).toEqual([]);

    await cli("staging", ["config", "set", "takeOver", "true"]);
    await cli("staging", ["up", "--yes", "--skip-preview"]);
    expect(await stored(prefix)).toEqual(hashes(theirs));
    expect((await stateFiles(cli, "staging"))[0].files).toEqual(await stored(prefix));
    // dev's refresh shows the objects staging took over as drift: dev no longer lists them.
    await cli("dev", ["refresh", "--yes", "--skip-preview"]);
    const [devAfter] = await stateFiles(cli, "dev");
    for (const [rel, hash] of Object.entries(devAfter.files)) expect((await stored(prefix))[rel]).toBe(hash);

    // dev's destroy leaves every object staging lists.
    await cli("dev", ["destroy", "--yes", "--skip-preview"]);
    expect(Object.keys(await stored(prefix)).length).toBe(3);
    expect(await stored(prefix)).toEqual(hashes(theirs));
    expect((await stateFiles(cli, "staging"))[0].files).toEqual(await stored(prefix));

    await cli("staging", ["destroy", "--yes", "--skip-preview"]);
    expect(emu.listObjects(prefix)).toEqual([]);
  });
});
