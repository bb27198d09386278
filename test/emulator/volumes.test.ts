// Volumes in the emulator as their users meet them: the volume docs' curl
// commands, one store under both APIs, and every refusal in both error styles.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startEmulator, Emulator } from "../../provider/emulator";
import type { ErrorStyle } from "../../provider/emulator";
import { mkTmp, rmTmp } from "../helpers/fs";
import { ALREADY_EXISTS_MESSAGE, API_ERROR_CODES, API_ERROR_HTTP_STATUS, ApiErrorKind, NOT_FOUND_MESSAGE } from "../../provider/client/api-codes";

const run = promisify(execFile);

async function rest(emu: Emulator, method: string, path: string, body?: unknown, key = emu.apiKey, scheme = "Bearer ") {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { Authorization: `${scheme}${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code: number; message: string; data?: any } };
}

describe("emulator volumes", () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({ apiKey: "volume-test-key" });
  });
  afterEach(() => emu.stop());

  test("the volume docs' curl sequence: create managed and external, list by type, describe, apply, delete", async () => {
    const env = { ...process.env, BASE_URL: emu.url, TOKEN: emu.apiKey };
    const sh = (script: string) => run("bash", ["-c", script], { env }).then((r) => JSON.parse(r.stdout));
    const headers = `--header "Authorization: Bearer \${TOKEN}" --header "Content-Type: application/json"`;

    const managed = await sh(`curl -s --request POST --url "\${BASE_URL}/v2/volumes/create" ${headers} -d '{
    "projectId": "proj-xxxxxxxxxxxxxxxxxxxxxxx",
    "regionId": "aws-us-west-2",
    "volumeName": "my_managed_volume"
}'`);
    expect(managed).toEqual({ code: 0, message: "success", data: { volumeName: "my_managed_volume" } });
    const external = await sh(`curl -s --request POST --url "\${BASE_URL}/v2/volumes/create" ${headers} -d '{
    "projectId": "proj-xxxxxxxxxxxxxxxxxxxxxxx",
    "regionId": "aws-us-west-2",
    "volumeName": "my_external_volume",
    "type": "EXTERNAL",
    "storageIntegrationId": "integ-xxxxxxxxxxxxxxxxxxxxxx",
    "path": "datasets/2025/"
}'`);
    expect(external).toEqual({ code: 0, message: "success", data: { volumeName: "my_external_volume" } });

    const all = await sh(`curl -s --request GET --url "\${BASE_URL}/v2/volumes?projectId=proj-xxxxxxxxxxxxxxxxxxxxxxx&currentPage=1&pageSize=10" ${headers}`);
    expect(all).toMatchObject({ code: 0, message: "success", data: { count: 2, currentPage: 1, pageSize: 10 } });
    expect(all.data.volumes.map((v: { volumeName: string }) => v.volumeName)).toEqual(["my_managed_volume", "my_external_volume"]);
    const onlyExternal = await sh(`curl -s --request GET --url "\${BASE_URL}/v2/volumes?projectId=proj-xxxxxxxxxxxxxxxxxxxxxxx&type=EXTERNAL" ${headers}`);
    expect(onlyExternal.data).toMatchObject({ count: 1, volumes: [{ volumeName: "my_external_volume", type: "EXTERNAL" }] });

    const described = await sh(`curl -s --request GET --url "\${BASE_URL}/v2/volumes/my_external_volume" ${headers}`);
    expect(described).toEqual({
      code: 0,
      message: "success",
      data: {
        volumeName: "my_external_volume",
        type: "EXTERNAL",
        regionId: "aws-us-west-2",
        storageIntegrationId: "integ-xxxxxxxxxxxxxxxxxxxxxx",
        path: "datasets/2025/",
        status: "Available",
        createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
    });
    const describedManaged = await sh(`curl -s --request GET --url "\${BASE_URL}/v2/volumes/my_managed_volume" ${headers}`);
    expect(describedManaged.data).toMatchObject({ volumeName: "my_managed_volume", type: "MANAGED", regionId: "aws-us-west-2" });

    const applied = await sh(`curl -s --request POST --url "\${BASE_URL}/v2/volumes/apply" ${headers} -d '{"volumeName": "my_managed_volume", "path": "data/"}'`);
    expect(applied).toMatchObject({
      code: 0,
      message: "success",
      data: {
        volumeName: "my_managed_volume",
        volumePrefix: "volumes/proj-xxxxxxxxxxxxxxxxxxxxxxx/my_managed_volume/",
        stagePrefix: "volumes/proj-xxxxxxxxxxxxxxxxxxxxxxx/my_managed_volume/",
        uploadPath: "volumes/proj-xxxxxxxxxxxxxxxxxxxxxxx/my_managed_volume/data/",
        endpoint: emu.url,
        bucketName: emu.bucketName,
        region: emu.region,
        cloud: "aws",
        condition: { maxContentLength: 10 * 1024 ** 3, maxFileNumber: 1000 },
        credentials: { tmpAK: expect.any(String), tmpSK: expect.any(String), sessionToken: expect.any(String), expireTime: expect.any(String) },
      },
    });
    const refused = await sh(`curl -s --request POST --url "\${BASE_URL}/v2/volumes/apply" ${headers} -d '{"volumeName": "my_external_volume", "path": ""}'`);
    expect(refused).toEqual({ code: API_ERROR_CODES.notManaged, message: expect.stringMatching(/EXTERNAL.*your own bucket under datasets\/2025\//), requestId: expect.any(String) });

    for (const name of ["my_managed_volume", "my_external_volume"]) {
      const deleted = await sh(`curl -s --request DELETE --url "\${BASE_URL}/v2/volumes/${name}" ${headers}`);
      expect(deleted).toEqual({ code: 0, message: "success", data: { volumeName: name } });
    }
    const gone = await sh(`curl -s --request GET --url "\${BASE_URL}/v2/volumes/my_managed_volume" ${headers}`);
    expect(gone).toEqual({ code: API_ERROR_CODES.notFound, message: "volume my_managed_volume does not exist", requestId: expect.any(String) });
    expect(emu.listVolumeNames()).toEqual([]);
  });

  test("one store: each API sees the managed volumes the other created, and their objects", async () => {
    await rest(emu, "POST", "/v2/stages/create", { projectId: "p", regionId: "aws-us-west-2", stageName: "from_stage_api" });
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "from_volume_api" });
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "ext", type: "EXTERNAL", storageIntegrationId: "integ-1" });

    expect((await rest(emu, "GET", "/v2/volumes/from_stage_api")).body.data).toMatchObject({ type: "MANAGED" });
    const stages = await rest(emu, "GET", "/v2/stages?projectId=p");
    expect(stages.body).toEqual({ code: 0, message: "success", data: { count: 2, currentPage: 1, pageSize: 10, stages: [{ stageName: "from_stage_api" }, { stageName: "from_volume_api" }] } });
    const managed = await rest(emu, "GET", "/v2/volumes?projectId=p&type=MANAGED");
    expect(managed.body.data.volumes.map((v: { volumeName: string }) => v.volumeName)).toEqual(["from_stage_api", "from_volume_api"]);

    // A name is taken across both APIs; an external volume is no stage.
    const dup = await rest(emu, "POST", "/v2/stages/create", { projectId: "p", regionId: "r", stageName: "ext" });
    expect(dup.body).toMatchObject({ code: API_ERROR_CODES.alreadyExists, message: "volume ext already exists" });
    expect((await rest(emu, "DELETE", "/v2/stages/ext")).body).toMatchObject({ code: API_ERROR_CODES.notFound, message: "stage ext does not exist" });

    // Bytes put with the stage API's credentials are where the volume API says they are.
    const viaStage = (await rest(emu, "POST", "/v2/stages/apply", { stageName: "from_stage_api", path: "" })).body.data;
    expect(viaStage.stagePrefix).toBe(viaStage.volumePrefix);
    const c = viaStage.credentials;
    const s3 = new S3Client({
      endpoint: viaStage.endpoint,
      region: viaStage.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken },
    });
    await s3.send(new PutObjectCommand({ Bucket: viaStage.bucketName, Key: `${viaStage.stagePrefix}a.json`, Body: "{}" }));
    s3.destroy();
    const viaVolume = (await rest(emu, "POST", "/v2/volumes/apply", { volumeName: "from_stage_api", path: "" })).body.data;
    expect(emu.listObjects(viaVolume.volumePrefix).map((o) => o.key)).toEqual([`${viaStage.stagePrefix}a.json`]);

    // Deleting through the volume API deletes the stage and its objects.
    expect((await rest(emu, "DELETE", "/v2/volumes/from_stage_api")).body.code).toBe(0);
    expect(emu.listStageNames()).toEqual(["from_volume_api"]);
    expect(emu.listObjects()).toEqual([]);
  });

  test("list pages through volumes with the type filter", async () => {
    for (let i = 0; i < 12; i++) {
      const external = i % 3 === 0;
      await rest(emu, "POST", "/v2/volumes/create", {
        projectId: "p",
        regionId: "aws-us-west-2",
        volumeName: `v_${String(i).padStart(2, "0")}`,
        ...(external ? { type: "EXTERNAL", storageIntegrationId: "integ-1" } : {}),
      });
    }
    const page2 = await rest(emu, "GET", "/v2/volumes?projectId=p&type=MANAGED&currentPage=2&pageSize=5");
    expect(page2.body.data).toMatchObject({ count: 8, currentPage: 2, pageSize: 5 });
    expect(page2.body.data.volumes.map((v: { volumeName: string }) => v.volumeName)).toEqual(["v_08", "v_10", "v_11"]);
    const other = await rest(emu, "GET", "/v2/volumes?projectId=other");
    expect(other.body).toEqual({ code: 0, message: "success", data: { count: 0, currentPage: 1, pageSize: 10, volumes: [] } });
  });
});

test("a data directory written before volumes existed opens with its stages as managed volumes and its credentials valid", async () => {
  const dataDir = await mkTmp();
  const expireTime = Date.now() + 3_600_000;
  const old = {
    stages: [{ projectId: "p", regionId: "aws-us-west-2", stageName: "old_stage", prefix: "stages/p/old_stage/", createdAt: 1 }],
    credentials: [{ accessKeyId: "ZSTMPOLD", secretAccessKey: "old-secret", sessionToken: "old-token", expireTime, stageName: "old_stage", prefix: "stages/p/old_stage/" }],
  };
  await fs.writeFile(path.join(dataDir, "state.json"), JSON.stringify(old));
  const emu = await startEmulator({ dataDir });
  try {
    expect((await rest(emu, "GET", "/v2/volumes/old_stage")).body.data).toMatchObject({ volumeName: "old_stage", type: "MANAGED" });
    expect(emu.listStageNames()).toEqual(["old_stage"]);
    const s3 = new S3Client({
      endpoint: emu.url,
      region: emu.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: "ZSTMPOLD", secretAccessKey: "old-secret", sessionToken: "old-token" },
    });
    await s3.send(new PutObjectCommand({ Bucket: emu.bucketName, Key: "stages/p/old_stage/kept.json", Body: "{}" }));
    s3.destroy();
    expect(emu.listObjects().map((o) => o.key)).toEqual(["stages/p/old_stage/kept.json"]);
  } finally {
    await emu.stop();
    await rmTmp(dataDir);
  }
});

describe("volume description and apply paths", () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.stop());

  test("a description is given at create, changed in place by PATCH (\"\" clears it), shown by describe and list", async () => {
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "v", description: "first" });
    const before = (await rest(emu, "GET", "/v2/volumes/v")).body.data;
    expect(before).toMatchObject({ description: "first", status: "Available" });
    const patched = await rest(emu, "PATCH", "/v2/volumes/v", { description: "second" });
    expect(patched.body).toMatchObject({ code: 0, data: { volumeName: "v", description: "second", createTime: before.createTime } });
    expect((await rest(emu, "GET", "/v2/volumes?projectId=p")).body.data.volumes).toEqual([expect.objectContaining({ volumeName: "v", description: "second" })]);
    const cleared = await rest(emu, "PATCH", "/v2/volumes/v", { description: "" });
    expect(cleared.body.data.description).toBeUndefined();
  });

  test("apply normalises the path as the newest SDK: empty and . segments dropped", async () => {
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "v" });
    const applied = await rest(emu, "POST", "/v2/volumes/apply", { volumeName: "v", path: "/a//./b/" });
    expect(applied.body.data.uploadPath).toBe("volumes/p/v/a/b/");
    expect((await rest(emu, "POST", "/v2/volumes/apply", { volumeName: "v", path: "./" })).body.data.uploadPath).toBe("volumes/p/v/");
  });
});

describe.each<ErrorStyle>(["code", "http"])("emulator refusals with errors: %s", (errors) => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ errors });
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "taken" });
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "outside", type: "EXTERNAL", storageIntegrationId: "i" });
    await rest(emu, "POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "frozen" });
    const frozen = await rest(emu, "POST", "/__emulator/volumes/frozen/status", { status: "Frozen" });
    expect(frozen.status).toBe(200);
  });
  afterAll(() => emu.stop());

  const create = (extra: object) => ["POST", "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", volumeName: "v", ...extra }] as const;
  const cases: Array<[string, readonly [string, string, unknown?], ApiErrorKind, RegExp]> = [
    ["EXTERNAL without storageIntegrationId", create({ type: "EXTERNAL" }), "malformedRequest", /storageIntegrationId is required/],
    ["a path on a MANAGED volume", create({ path: "data/" }), "malformedRequest", /path is only for EXTERNAL/],
    ["an external path not ending in /", create({ type: "EXTERNAL", storageIntegrationId: "i", path: "data" }), "malformedRequest", /must end in "\/"/],
    ["an unknown type", create({ type: "SHARED" }), "malformedRequest", /type must be MANAGED or EXTERNAL, got "SHARED"/],
    ["an unknown type filter", ["GET", "/v2/volumes?projectId=p&type=shared"], "malformedRequest", /type must be MANAGED or EXTERNAL/],
    ["a bad name", create({ volumeName: "no spaces" }), "invalidName", /Invalid volumeName/],
    ["a duplicate volume", create({ volumeName: "taken" }), "alreadyExists", ALREADY_EXISTS_MESSAGE],
    ["a duplicate stage", ["POST", "/v2/stages/create", { projectId: "p", regionId: "r", stageName: "taken" }], "alreadyExists", ALREADY_EXISTS_MESSAGE],
    ["describe of an unknown volume", ["GET", "/v2/volumes/ghost"], "notFound", NOT_FOUND_MESSAGE],
    ["delete of an unknown volume", ["DELETE", "/v2/volumes/ghost"], "notFound", NOT_FOUND_MESSAGE],
    ["apply of an unknown stage", ["POST", "/v2/stages/apply", { stageName: "ghost", path: "" }], "notFound", NOT_FOUND_MESSAGE],
    ["apply of an external volume", ["POST", "/v2/volumes/apply", { volumeName: "outside", path: "" }], "notManaged", /EXTERNAL/],
    // Prefixes are stages/<projectId>/<name>/: a "/" in the project id would let one stage's prefix hold another's.
    ["a project id with a /", create({ projectId: "p/taken" }), "invalidName", /Invalid projectId: must be a Zilliz Cloud project ID/],
    ["a stage in a project id with a /", ["POST", "/v2/stages/create", { projectId: "p/q", regionId: "r", stageName: "r" }], "invalidName", /Invalid projectId/],
    ["a malformed %-escape in a name", ["GET", "/v2/volumes/bad%zz"], "malformedRequest", /malformed %-escape/],
    ["a malformed %-escape in a delete", ["DELETE", "/v2/stages/%E0%A4%A"], "malformedRequest", /malformed %-escape/],
    ["a description over 255 characters", create({ description: "d".repeat(256) }), "malformedRequest", /description must be at most 255/],
    ["an update of an unknown volume", ["PATCH", "/v2/volumes/ghost", { description: "x" }], "notFound", NOT_FOUND_MESSAGE],
    ["an update without a description", ["PATCH", "/v2/volumes/taken", {}], "malformedRequest", /description is required/],
    ["an update over 255 characters", ["PATCH", "/v2/volumes/taken", { description: "d".repeat(256) }], "malformedRequest", /description must be at most 255/],
    ["apply with a .. segment inside the path", ["POST", "/v2/volumes/apply", { volumeName: "taken", path: "a/../../b/" }], "malformedRequest", /no "\.\." segment/],
    ["apply of a Frozen volume", ["POST", "/v2/volumes/apply", { volumeName: "frozen", path: "" }], "volumeUnusable", /frozen is Frozen/],
  ];

  test.each(cases)("%s", async (_name, [method, path, body], kind, message) => {
    const { status, body: answer } = await rest(emu, method, path, body);
    expect(answer).toEqual({ code: API_ERROR_CODES[kind], message: expect.stringMatching(message), requestId: expect.any(String) });
    expect(status).toBe(errors === "http" ? API_ERROR_HTTP_STATUS[kind] : 200);
  });

  test("a wrong API key", async () => {
    const { status, body } = await rest(emu, "GET", "/v2/volumes?projectId=p", undefined, "wrong");
    expect(body).toEqual({ code: API_ERROR_CODES.invalidApiKey, message: expect.stringMatching(/API key/), requestId: expect.any(String) });
    expect(status).toBe(errors === "http" ? 401 : 200);
  });

  test("the key without 'Bearer ' is refused, as the service refuses it", async () => {
    const { status, body } = await rest(emu, "GET", "/v2/volumes?projectId=p", undefined, emu.apiKey, "");
    expect(body).toMatchObject({ code: API_ERROR_CODES.invalidApiKey });
    expect(status).toBe(errors === "http" ? 401 : 200);
    expect((await rest(emu, "GET", "/v2/volumes?projectId=p", undefined, emu.apiKey, "Token ")).body.code).toBe(API_ERROR_CODES.invalidApiKey);
  });

  test("an error's request id is in the body and in the requestid header", async () => {
    const res = await fetch(`${emu.url}/v2/volumes/ghost`, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
    const body = (await res.json()) as { requestId: string };
    expect(body.requestId).toMatch(/^[0-9a-f]{16}$/);
    expect(res.headers.get("requestid")).toBe(body.requestId);
  });

  test("several Parquet files in one inner list of dataPaths: code 2100, as the service answers (HTTP 200 in both styles)", async () => {
    const job = { clusterId: "in01-emulator", collectionName: "quickstart", volumeName: "taken" };
    const refused = await rest(emu, "POST", "/v2/vectordb/jobs/import/create", { ...job, dataPaths: [["a.parquet"], ["b.parquet", "c.parquet"]] });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ code: 2100, message: expect.stringMatching(/dataPaths\[1\] holds "b\.parquet" among 2 paths/) });
  });

  test("success answers carry code 0 and a message in either style", async () => {
    expect((await rest(emu, "GET", "/v2/stages?projectId=p")).body).toMatchObject({ code: 0, message: "success" });
    expect((await rest(emu, "GET", "/v2/volumes/taken")).body).toMatchObject({ code: 0, message: "success" });
  });

  test("an unknown path is a real 404, and injected faults keep their status: they model the transport", async () => {
    expect((await rest(emu, "GET", "/v2/nothing")).status).toBe(404);
    // The key is checked first, even there.
    expect((await rest(emu, "GET", "/v2/nothing", undefined, "wrong")).body.code).toBe(API_ERROR_CODES.invalidApiKey);
    emu.faults.add({ target: "describe", count: 1, status: 503 });
    expect((await rest(emu, "GET", "/v2/volumes/taken")).status).toBe(503);
  });
});
