// Every call of the one client (stage and volume dialects) against the
// emulator, in both error styles: the service's (HTTP 200 + code) and the
// HTTP-status style.
import { startEmulator, Emulator } from "../../provider/emulator";
import { isAlreadyExists, isNotFound, ZillizClient } from "../../provider/client";
import { ZillizApiError } from "../../provider/errors";
import { API_ERROR_CODES } from "../../provider/client/api-codes";

const FAST = { baseDelayMs: 5, maxDelayMs: 50 };

describe.each([["code" as const], ["http" as const]])("ZillizClient, emulator errors: %s", (errors) => {
  let emu: Emulator;
  let client: ZillizClient;
  const status = (kind: keyof typeof API_ERROR_CODES, http: number) => (errors === "http" ? http : 200);

  beforeEach(async () => {
    emu = await startEmulator({ errors });
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: FAST });
  });
  afterEach(async () => {
    await client.close();
    await emu.stop();
  });

  test("volumes: create managed and external, list with a type filter, describe, delete", async () => {
    expect(await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "m1" })).toEqual({ volumeName: "m1" });
    expect(
      await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "x1", type: "EXTERNAL", storageIntegrationId: "si-1", path: "bucket/data/" }),
    ).toEqual({ volumeName: "x1" });

    const all = await client.listVolumes({ projectId: "p" });
    expect(all).toMatchObject({ count: 2, currentPage: 1, pageSize: 10 });
    expect(all.volumes.map((v) => v.volumeName).sort()).toEqual(["m1", "x1"]);
    const external = await client.listVolumes({ projectId: "p", type: "EXTERNAL" });
    expect(external.volumes.map((v) => v.volumeName)).toEqual(["x1"]);

    const m1 = await client.describeVolume("m1");
    expect(m1).toMatchObject({ volumeName: "m1", type: "MANAGED", regionId: "aws-us-west-2" });
    expect(Date.parse(m1!.createTime!)).toBeGreaterThan(0);
    expect(typeof m1!.status).toBe("string");
    expect(await client.describeVolume("x1")).toMatchObject({ type: "EXTERNAL", storageIntegrationId: "si-1", path: "bucket/data/" });
    expect(await client.describeVolume("ghost")).toBeUndefined();

    expect(await client.deleteVolume("x1")).toEqual({ volumeName: "x1", existed: true });
    expect(await client.deleteVolume("x1")).toEqual({ volumeName: "x1", existed: false });
    expect(await client.describeVolume("x1")).toBeUndefined();
  });

  test("volumes: every page is read, of one type when asked", async () => {
    for (let i = 0; i < 23; i++) await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: `v_${String(i).padStart(2, "0")}` });
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "ext", type: "EXTERNAL", storageIntegrationId: "si" });
    const names: string[] = [];
    for await (const v of client.volumes({ projectId: "p", type: "MANAGED", pageSize: 10 })) names.push(v.volumeName);
    expect(names).toHaveLength(23);
    expect(new Set(names).size).toBe(23);
    expect(names).not.toContain("ext");
    expect(emu.requests().filter((r) => r.kind === "list")).toHaveLength(3);
  });

  test("volumes: apply answers in the volume dialect, with the limits and the cloud", async () => {
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "m1" });
    const t = await client.applyUploadTarget({ volumeName: "m1", path: "data/" });
    expect(t.volumeName).toBe("m1");
    expect(t.prefix).toBe(t.volumePrefix);
    expect(t.prefix).not.toBe("");
    expect(t.uploadPath).toBe(t.prefix + "data/");
    expect(t.cloud).toBe("aws");
    expect(t.condition.maxFileNumber).toBeGreaterThan(0);
    await client.createVolume({ projectId: "p", regionId: "gcp-us-west1", volumeName: "g1" });
    const g = await client.applyUploadTarget({ volumeName: "g1", path: "" });
    expect(g).toMatchObject({ cloud: "gcp", region: "us-west1" });
  });

  test("stages: create, list, apply, delete, and a stage is a managed volume to the volume API", async () => {
    expect(await client.createStage({ projectId: "p", regionId: "aws-us-west-2", stageName: "s1" })).toEqual({ stageName: "s1" });
    expect((await client.listStages({ projectId: "p" })).stages).toEqual([{ stageName: "s1" }]);
    expect(await client.findStage("p", "s1")).toEqual({ stageName: "s1" });
    const t = await client.applyUploadTarget({ stageName: "s1", path: "" });
    expect(t.prefix).toBe(t.stagePrefix);
    expect(await client.describeVolume("s1")).toMatchObject({ type: "MANAGED" });
    expect(await client.deleteStage("s1")).toEqual({ stageName: "s1", existed: true });
    expect(await client.deleteStage("s1")).toEqual({ stageName: "s1", existed: false });
  });

  test("errors: each is a ZillizApiError naming the call, recognised whatever the style", async () => {
    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "dup" });
    const taken = await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "dup" }).catch((e) => e);
    expect(taken).toBeInstanceOf(ZillizApiError);
    expect(taken).toMatchObject({ call: "create volume", status: status("alreadyExists", 409), apiCode: API_ERROR_CODES.alreadyExists });
    expect(isAlreadyExists(taken)).toBe(true);
    expect(taken.message).toMatch(/adopt: true/);
    // One namespace: a stage cannot take a volume's name.
    expect(isAlreadyExists(await client.createStage({ projectId: "p", regionId: "aws-us-west-2", stageName: "dup" }).catch((e) => e))).toBe(true);

    const noIntegration = await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "x", type: "EXTERNAL" }).catch((e) => e);
    expect(noIntegration).toMatchObject({ status: status("malformedRequest", 400), apiCode: API_ERROR_CODES.malformedRequest });
    expect(noIntegration.message).toMatch(/storageIntegrationId/);

    const ghost = await client.applyUploadTarget({ volumeName: "ghost", path: "" }).catch((e) => e);
    expect(ghost).toMatchObject({ call: "apply volume", status: status("notFound", 404) });
    expect(isNotFound(ghost)).toBe(true);

    await client.createVolume({ projectId: "p", regionId: "aws-us-west-2", volumeName: "ext", type: "EXTERNAL", storageIntegrationId: "si" });
    const external = await client.applyUploadTarget({ volumeName: "ext", path: "" }).catch((e) => e);
    expect(external).toMatchObject({ apiCode: API_ERROR_CODES.notManaged });
    expect(external.message).toMatch(/your own bucket/);

    const wrongKey = new ZillizClient({ endpoint: emu.url, apiKey: "not-the-key", retry: FAST });
    const e = await wrongKey.describeVolume("dup").catch((err) => err);
    await wrongKey.close();
    expect(e).toMatchObject({ call: "describe volume", status: status("invalidApiKey", 401), apiCode: API_ERROR_CODES.invalidApiKey });
    expect(e.message).toMatch(/zillizcloud:apiKey/);
  });
});
