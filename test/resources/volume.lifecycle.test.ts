// The Volume and VolumeFiles providers against the emulator: every step of
// a volume's life, adoption, bad input refused before any call, and files
// kept in a managed volume (refused for an external one).
import { ZillizClient } from "../../provider/client";
import type { Emulator } from "../../provider/emulator";
import { ZillizApiError, ZillizValidationError } from "../../provider/errors";
import { manifestPaths } from "../../provider/upload";
import { providerOnEmulator, type ProviderOnEmulator } from "../helpers/provider";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { objectsUnder } from "../helpers/stage";

type Provider = ProviderOnEmulator["provider"];

// Each describe starts its own kind of provider on a fresh emulator.
let emu: Emulator, provider: Provider, client: ZillizClient, close: () => Promise<void>;
afterEach(() => close());

/** Adopting a volume or stage of another project is refused on projectId, without naming that project. */
async function expectOtherProjectRefused(create: Promise<unknown>): Promise<void> {
  const err = await create.catch((e) => e);
  expect(err).toBeInstanceOf(ZillizValidationError);
  expect(err.field).toBe("projectId");
  expect(err.message).toMatch(/projectId is "another project" there, "proj-1" here/);
}

describe("Volume provider", () => {
  const inputs = { projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "raw" };
  beforeEach(async () => void ({ emu, provider, client, close } = await providerOnEmulator("volume")));

  test("create, no-op, replace (old one first when the name stays), refresh after an out-of-band delete, delete", async () => {
    const created = await provider.create(inputs);
    expect(created.id).toBe("raw");
    expect(created.outs).toMatchObject({ ...inputs, type: "MANAGED" });
    expect(created.outs.status).not.toBe("");
    expect(Date.parse(created.outs.createTime)).toBeGreaterThan(0);
    expect(await client.describeVolume("raw")).toMatchObject({ type: "MANAGED" });

    expect(await provider.diff("raw", created.outs, { ...inputs, type: "MANAGED" })).toMatchObject({ changes: false, replaces: [] });
    // adopt changes nothing in the service.
    expect(await provider.diff("raw", created.outs, { ...inputs, adopt: true })).toMatchObject({ changes: false });

    const external = { ...inputs, type: "EXTERNAL", storageIntegrationId: "si-1", path: "bucket/raw/" };
    expect(await provider.diff("raw", created.outs, external)).toEqual({
      changes: true,
      replaces: ["type", "storageIntegrationId", "path"],
      deleteBeforeReplace: true,
    });
    expect(await provider.diff("raw", created.outs, { ...inputs, volumeName: "raw2" })).toMatchObject({ replaces: ["volumeName"], deleteBeforeReplace: false });
    expect(await provider.diff("raw", created.outs, { ...inputs, regionId: "gcp-us-west1" })).toMatchObject({ replaces: ["regionId"], deleteBeforeReplace: true });

    await provider.delete("raw", created.outs);
    const replaced = await provider.create(external);
    expect(replaced.outs).toMatchObject(external);

    const read = await provider.read("raw", replaced.outs);
    expect(read).toEqual({ id: "raw", props: replaced.outs });
    expect((await client.deleteVolume("raw")).existed).toBe(true);
    expect(await provider.read("raw", replaced.outs)).toEqual({});
    // Deleting what is gone succeeds.
    await provider.delete("raw", replaced.outs);
  });

  test("a name taken says how to adopt it; adopt takes over a matching volume and creates nothing", async () => {
    await client.createVolume({ ...inputs });
    const err = await provider.create(inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizApiError);
    expect(err.message).toMatch(/already exists.*adopt: true/s);
    expect(err.message).not.toMatch(/import/);

    emu.clearRequests();
    const adopted = await provider.create({ ...inputs, adopt: true });
    expect(adopted.outs).toMatchObject({ ...inputs, type: "MANAGED" });
    expect(Date.parse(adopted.outs.createTime)).toBeGreaterThan(0);
    expect(emu.requests().map((r) => r.kind)).toEqual(["list"]);
  });

  test("adopt refuses a volume whose settings differ, naming each field", async () => {
    await client.createVolume({ ...inputs, regionId: "gcp-us-west1", type: "EXTERNAL", storageIntegrationId: "si-9", path: "b/" });
    const err = await provider.create({ ...inputs, adopt: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("regionId");
    expect(err.message).toMatch(/regionId is "gcp-us-west1" there, "aws-us-west-2" here/);
    expect(err.message).toMatch(/type is "EXTERNAL" there, "MANAGED" here/);
    expect(err.message).toMatch(/storageIntegrationId is "si-9" there, \(none\) here/);
    expect(err.message).toMatch(/path is "b\/" there, \(none\) here/);
    expect(err.message).toMatch(/pick another volumeName/);
    expect(emu.requests().filter((r) => r.kind === "create")).toHaveLength(1); // the test's own
  });

  test("adopt refuses a matching volume of another project, naming projectId (its destroy would delete that project's volume)", async () => {
    await client.createVolume({ ...inputs, projectId: "proj-other" });
    await expectOtherProjectRefused(provider.create({ ...inputs, adopt: true }));
  });

  test("a new connection is an update, never a replacement, and the state follows it", async () => {
    const before = { ...inputs, connection: { endpoint: emu.url, apiKey: emu.apiKey } };
    const created = await provider.create(before);
    expect(created.outs.connection).toEqual(before.connection);
    const after = { ...inputs, connection: { endpoint: emu.url.replace("127.0.0.1", "localhost"), apiKey: emu.apiKey } };
    expect(await provider.diff("raw", created.outs, after)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    emu.clearRequests();
    const updated = await provider.update("raw", created.outs, after);
    expect(updated.outs).toEqual({ ...created.outs, connection: after.connection });
    expect(emu.requests()).toEqual([]);
    // Refresh and delete use the recorded connection.
    expect((await provider.read("raw", updated.outs)).props).toMatchObject({ volumeName: "raw", connection: after.connection });
    await provider.delete("raw", updated.outs);
    expect(await client.describeVolume("raw")).toBeUndefined();
  });

  test("a new description is an update in place (PATCH), never a replacement; removing it clears it", async () => {
    const created = await provider.create({ ...inputs, description: "raw files" });
    expect(created.outs.description).toBe("raw files");
    expect(await client.describeVolume("raw")).toMatchObject({ description: "raw files" });
    const changed = { ...inputs, description: "raw files, v2" };
    expect(await provider.diff("raw", created.outs, changed)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    emu.clearRequests();
    const updated = await provider.update("raw", created.outs, changed);
    expect(emu.requests().map((r) => [r.method, r.path])).toEqual([["PATCH", "/v2/volumes/raw"]]);
    expect(updated.outs).toMatchObject({ description: "raw files, v2", createTime: created.outs.createTime });
    expect(await client.describeVolume("raw")).toMatchObject({ description: "raw files, v2", createTime: created.outs.createTime });
    expect((await provider.read("raw", updated.outs)).props).toMatchObject({ description: "raw files, v2" });

    expect(await provider.diff("raw", updated.outs, inputs)).toMatchObject({ changes: true, replaces: [] });
    const cleared = await provider.update("raw", updated.outs, inputs);
    expect(cleared.outs.description).toBeUndefined();
    expect((await client.describeVolume("raw"))?.description).toBeUndefined();
    // State written before descriptions existed has none: no change without one.
    expect(await provider.diff("raw", cleared.outs, inputs)).toMatchObject({ changes: false });
  });

  test("adopt with no such volume creates it", async () => {
    const created = await provider.create({ ...inputs, adopt: true });
    expect(created.outs).toMatchObject(inputs);
    expect(await client.describeVolume("raw")).toBeDefined();
  });

  test.each([
    [{ type: "EXTERNAL" }, "storageIntegrationId", /required for an EXTERNAL volume/],
    [{ path: "bucket/x/" }, "path", /only for EXTERNAL volumes/],
    [{ type: "EXTERNAL", storageIntegrationId: "si", path: "bucket/x" }, "path", /must end in "\/".*"bucket\/x\/"/],
    [{ type: "SHARED" }, "type", /must be MANAGED or EXTERNAL, got "SHARED"/],
    // Part of the object keys (volumes/<projectId>/<name>/): a "/" would make two volumes' prefixes overlap.
    [{ projectId: "proj-1/raw" }, "projectId", /must be a Zilliz Cloud project ID such as proj-xxxxxxxx/],
    [{ description: "d".repeat(256) }, "description", /at most 255 characters/],
  ])("check refuses %j before any call, naming %s and the fix", async (extra, field, reason) => {
    const { failures } = await provider.check({}, { ...inputs, ...extra });
    expect(failures).toEqual([{ property: field, reason: expect.stringMatching(reason) }]);
    expect(failures![0].reason.startsWith(field)).toBe(true);
    expect(emu.requests()).toEqual([]);
  });
});

describe("Stage provider adoption", () => {
  const inputs = { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw" };
  beforeEach(async () => void ({ emu, provider, client, close } = await providerOnEmulator("stage")));

  test("adopt takes over a stage of the project, found by the list", async () => {
    await client.createStage(inputs);
    emu.clearRequests();
    const adopted = await provider.create({ ...inputs, adopt: true });
    expect(adopted).toEqual({ id: "raw", outs: inputs });
    expect(emu.requests().map((r) => r.kind)).toEqual(["list"]);
  });

  test("adopt refuses a stage of another project, naming projectId", async () => {
    await client.createStage({ ...inputs, projectId: "proj-other" });
    await expectOtherProjectRefused(provider.create({ ...inputs, adopt: true }));
  });
});

describe("VolumeFiles provider", () => {
  let dir: string;
  beforeEach(async () => {
    ({ emu, provider, client, close } = await providerOnEmulator("volumeFiles"));
    dir = await mkTmp();
  });
  afterEach(() => rmTmp(dir));

  async function objects(): Promise<Record<string, string>> {
    const { prefix } = await client.applyUploadTarget({ volumeName: "vol", path: "" });
    return objectsUnder(emu, prefix);
  }

  test("create, change, read, delete in a managed volume; outputs name the volume", async () => {
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "vol" });
    await writeTree(dir, { "1.json": "one", "sub/2.json": "two" });
    const checked = await provider.check({}, { volumeName: "vol", source: dir, path: "data" });
    expect(checked.failures).toEqual([]);
    const created = await provider.create(checked.inputs);
    expect(created.id).toBe("vol/data/");
    expect(created.outs).toMatchObject({ volumeName: "vol", path: "data/", fileCount: 2 });
    expect(created.outs.stageName).toBeUndefined();
    expect(manifestPaths(created.outs.manifest)).toEqual(["1.json", "sub/2.json"]);
    // Describe (is it managed?), then the volume dialect's apply.
    expect(emu.requests().filter((r) => r.kind === "describe" || r.kind === "apply").map((r) => r.path)).toEqual(["/v2/volumes/vol", "/v2/volumes/apply"]);
    expect(await objects()).toEqual({ "data/1.json": "one", "data/sub/2.json": "two" });

    await writeTree(dir, { "1.json": "uno" });
    const again = await provider.check(checked.inputs, { volumeName: "vol", source: dir, path: "data" });
    const diff = await provider.diff(created.id, created.outs, again.inputs);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(created.id, created.outs, again.inputs);
    expect(await objects()).toEqual({ "data/1.json": "uno", "data/sub/2.json": "two" });
    expect((await provider.read(created.id, updated.outs)).props).toMatchObject({ volumeName: "vol", fileCount: 2 });

    await provider.delete(created.id, updated.outs);
    expect(await objects()).toEqual({});
    expect(await provider.diff(created.id, created.outs, { ...again.inputs, volumeName: "other" })).toMatchObject({ replaces: ["volumeName"] });
  });

  /** A create of one file into vol, refused on volumeName with nothing sent after the volume's describe; the refusal. */
  async function refusedAfterDescribe(): Promise<ZillizValidationError> {
    await writeTree(dir, { "1.json": "one" });
    const checked = await provider.check({}, { volumeName: "vol", source: dir });
    emu.clearRequests();
    const err = await provider.create(checked.inputs).catch((e) => e);
    expect(err).toBeInstanceOf(ZillizValidationError);
    expect(err.field).toBe("volumeName");
    expect(emu.requests().map((r) => r.kind)).toEqual(["describe"]);
    return err;
  }

  test("an EXTERNAL volume is refused before anything is sent: its files live in the user's bucket", async () => {
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "vol", type: "EXTERNAL", storageIntegrationId: "si", path: "bucket/in/" });
    const err = await refusedAfterDescribe();
    expect(err.message).toMatch(/EXTERNAL: its files live in your own bucket under bucket\/in\/.*MANAGED volume/s);
  });

  test("a Frozen volume is refused before any upload, saying why and what to do", async () => {
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "vol" });
    const frozen = await fetch(`${emu.url}/__emulator/volumes/vol/status`, {
      method: "POST",
      headers: { Authorization: `Bearer ${emu.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "Frozen" }),
    });
    expect(frozen.status).toBe(200);
    const err = await refusedAfterDescribe();
    expect(err.message).toMatch(/volume vol is Frozen: .*organization is frozen.*nothing was uploaded.*billing/s);
    expect(emu.listObjects()).toEqual([]);
  });
});
