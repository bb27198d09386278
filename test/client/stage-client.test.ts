// The REST client against the emulator (and, where the emulator cannot
// misbehave in the needed way, a tiny server of the test's own).
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { startEmulator, Emulator } from "../../provider/emulator";
import { StageClient, isAlreadyExists, isNotFound } from "../../provider/client";
import { ZillizApiError, ZillizTransportError, ZillizValidationError } from "../../provider/errors";
import { ALREADY_EXISTS_MESSAGE, API_ERROR_CODES } from "../../provider/client/api-codes";

const FAST = { baseDelayMs: 5, maxDelayMs: 50 };

describe("StageClient", () => {
  let emu: Emulator;
  let client: StageClient;

  beforeEach(async () => {
    emu = await startEmulator();
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: FAST });
  });
  afterEach(async () => {
    await client.close();
    await emu.stop();
  });

  test("create, list, apply, delete", async () => {
    expect(await client.createStage({ projectId: "p1", regionId: "aws-us-west-2", stageName: "s1" })).toEqual({ stageName: "s1" });
    const page = await client.listStages({ projectId: "p1" });
    expect(page).toEqual({ count: 1, currentPage: 1, pageSize: 10, stages: [{ stageName: "s1" }] });
    const target = await client.applyUploadTarget({ stageName: "s1", path: "data/" });
    expect(target.stagePrefix).toBe("stages/p1/s1/");
    expect(target.endpoint).toBe(emu.url);
    expect(Date.parse(target.credentials.expireTime)).toBeGreaterThan(Date.now());
    // Files per batch is a volume rule: a stage's answer has no maxFileNumber, so a stage of 100,000 files uploads in one run.
    expect(target.condition.maxFileNumber).toBeUndefined();
    expect(await client.deleteStage("s1")).toEqual({ stageName: "s1", existed: true });
    expect(await client.deleteStage("s1")).toEqual({ stageName: "s1", existed: false });
  });

  test("pagination over 25 stages", async () => {
    for (let i = 0; i < 25; i++) await client.createStage({ projectId: "p", regionId: "r", stageName: `st_${String(i).padStart(2, "0")}` });
    const second = await client.listStages({ projectId: "p", currentPage: 3, pageSize: 10 });
    expect(second.count).toBe(25);
    expect(second.stages).toHaveLength(5);
    const all: string[] = [];
    for await (const s of client.stages({ projectId: "p", pageSize: 10 })) all.push(s.stageName);
    expect(all).toHaveLength(25);
    expect(new Set(all).size).toBe(25);
    expect(emu.requests().filter((r) => r.kind === "list").length).toBeGreaterThanOrEqual(3);
    expect(await client.findStage("p", "st_22")).toEqual({ stageName: "st_22" });
    expect(await client.findStage("p", "missing")).toBeUndefined();
  });

  test("each error is a typed ZillizApiError with status, code and call (emulator errors: http)", async () => {
    // The HTTP statuses carry the client's hints (401 -> which key to set, 409 -> name taken).
    const httpEmu = await startEmulator({ errors: "http" });
    const httpClient = new StageClient({ endpoint: httpEmu.url, apiKey: httpEmu.apiKey, retry: FAST });
    const wrongKey = new StageClient({ endpoint: httpEmu.url, apiKey: "not-the-key", retry: FAST });
    const e1 = await wrongKey.listStages({ projectId: "p" }).catch((e) => e);
    await wrongKey.close();
    expect(e1).toBeInstanceOf(ZillizApiError);
    expect(e1).toMatchObject({ status: 401, code: "ZILLIZ_ERR_API", apiCode: API_ERROR_CODES.invalidApiKey, call: "list" });
    expect(e1.message).toContain("zillizcloud:apiKey");

    const e2 = await httpClient.createStage({ projectId: "p", regionId: "r", stageName: "bad name" }).catch((e) => e);
    expect(e2).toMatchObject({ status: 400, apiCode: API_ERROR_CODES.invalidName, call: "create" });

    await httpClient.createStage({ projectId: "p", regionId: "r", stageName: "dup" });
    const e3 = await httpClient.createStage({ projectId: "p", regionId: "r", stageName: "dup" }).catch((e) => e);
    expect(e3).toMatchObject({ status: 409, apiCode: API_ERROR_CODES.alreadyExists });
    expect(e3.message).toMatch(/taken/);

    const e4 = await httpClient.applyUploadTarget({ stageName: "ghost", path: "" }).catch((e) => e);
    expect(e4).toMatchObject({ status: 404, apiCode: API_ERROR_CODES.notFound, call: "apply" });
    expect(isNotFound(e4)).toBe(true);
    await httpClient.close();
    await httpEmu.stop();
  });

  test("the service's error style (HTTP 200 + code) is an error too, recognised by code and message", async () => {
    const wrongKey = new StageClient({ endpoint: emu.url, apiKey: "not-the-key", retry: FAST });
    const e1 = await wrongKey.listStages({ projectId: "p" }).catch((e) => e);
    await wrongKey.close();
    expect(e1).toBeInstanceOf(ZillizApiError);
    expect(e1).toMatchObject({ status: 200, code: "ZILLIZ_ERR_API", apiCode: API_ERROR_CODES.invalidApiKey, call: "list", apiMessage: expect.stringMatching(/API key/) });
    // The hint does not depend on the HTTP status.
    expect(e1.message).toContain("zillizcloud:apiKey");

    const e2 = await client.createStage({ projectId: "p", regionId: "r", stageName: "bad name" }).catch((e) => e);
    expect(e2).toMatchObject({ status: 200, apiCode: API_ERROR_CODES.invalidName, call: "create" });

    await client.createStage({ projectId: "p", regionId: "r", stageName: "dup" });
    const e3 = await client.createStage({ projectId: "p", regionId: "r", stageName: "dup" }).catch((e) => e);
    expect(e3).toMatchObject({ status: 200, apiCode: API_ERROR_CODES.alreadyExists, apiMessage: expect.stringMatching(ALREADY_EXISTS_MESSAGE) });
    expect(isAlreadyExists(e3)).toBe(true);
    expect(e3.message).toMatch(/taken/);

    const e4 = await client.applyUploadTarget({ stageName: "ghost", path: "" }).catch((e) => e);
    expect(e4).toMatchObject({ status: 200, apiCode: API_ERROR_CODES.notFound, call: "apply" });
    expect(isNotFound(e4)).toBe(true);
    expect(await client.deleteStage("ghost")).toEqual({ stageName: "ghost", existed: false });
    // A 200 error is final: no retry.
    expect(emu.requests().filter((r) => r.kind === "apply")).toHaveLength(1);
  });

  test("retries an injected 500 and succeeds on the third attempt", async () => {
    emu.faults.add({ target: "list", count: 2, status: 500 });
    await client.listStages({ projectId: "p" });
    expect(emu.requests().filter((r) => r.kind === "list").map((r) => r.status)).toEqual([500, 500, 200]);
  });

  test("honours Retry-After on 429", async () => {
    emu.faults.add({ target: "list", count: 1, status: 429, retryAfterSeconds: 1 });
    const patient = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: { baseDelayMs: 5, maxDelayMs: 5000 } });
    const started = Date.now();
    await patient.listStages({ projectId: "p" });
    await patient.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emu.requests().filter((r) => r.kind === "list")).toHaveLength(2);
  });

  test("retries a reset connection", async () => {
    emu.faults.add({ target: "create", count: 1, mode: "reset" });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "after_reset" });
    expect(emu.listStageNames()).toContain("after_reset");
  });

  test("a retried create that finds its own stage counts as created", async () => {
    // The first attempt lands but its answer is lost (delay then reset is not
    // possible once answered; so: the stage exists, and the retry sees 409).
    emu.faults.add({ target: "create", count: 1, status: 503 });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "idem" });
    expect(emu.listStageNames()).toEqual(["idem"]);
  });

  test("no retry on 400", async () => {
    emu.faults.add({ target: "create", count: 1, status: 400 });
    await expect(client.createStage({ projectId: "p", regionId: "r", stageName: "x" })).rejects.toMatchObject({ status: 400 });
    expect(emu.requests().filter((r) => r.kind === "create")).toHaveLength(1);
  });

  test("gives up after the last attempt and says how many", async () => {
    emu.faults.add({ target: "list", count: 10, status: 503 });
    const limited = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, retry: { ...FAST, maxAttempts: 3 } });
    const err = await limited.listStages({ projectId: "p" }).catch((e) => e);
    await limited.close();
    expect(err).toBeInstanceOf(ZillizApiError);
    expect(err).toMatchObject({ code: "ZILLIZ_ERR_API", status: 503, attempts: 3 });
    expect(err.message).toMatch(/after 3 attempts/);
    // A new error for the verdict; the last answer is its cause, its own message untouched.
    expect(err.cause).toBeInstanceOf(ZillizApiError);
    expect(err.cause.message).not.toMatch(/attempts/);
    expect(emu.requests().filter((r) => r.kind === "list")).toHaveLength(3);
  });

  test("a stalled answer times out as a transport error", async () => {
    emu.faults.add({ target: "list", count: 1, mode: "stall" });
    const impatient = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey, timeoutMs: 300, retry: { maxAttempts: 1 } });
    const err = await impatient.listStages({ projectId: "p" }).catch((e) => e);
    await impatient.close();
    expect(err).toBeInstanceOf(ZillizTransportError);
    expect(err.message).toMatch(/within 300 ms/);
  });

  test("the API key appears in no error", async () => {
    const secret = "sk-very-secret-key-0123456789";
    const wrong = new StageClient({ endpoint: emu.url, apiKey: secret, retry: FAST });
    const errors = [
      await wrong.listStages({ projectId: "p" }).catch((e) => e),
      await new StageClient({ endpoint: "http://127.0.0.1:1", apiKey: secret, retry: { ...FAST, maxAttempts: 2 } }).listStages({ projectId: "p" }).catch((e) => e),
    ];
    await wrong.close();
    for (const e of errors) {
      expect(e).toBeInstanceOf(Error);
      expect(inspect(e, { depth: 10 }) + JSON.stringify(e) + e.stack).not.toContain(secret);
    }
  });

  test("endpoints: not a URL, and plain http off loopback, are refused with the fix", () => {
    expect(() => new StageClient({ apiKey: "k", endpoint: "api.cloud.zilliz.com" })).toThrow(ZillizValidationError);
    expect(() => new StageClient({ apiKey: "k", endpoint: "not a url" })).toThrow(/not a URL/);
    expect(() => new StageClient({ apiKey: "k", endpoint: "http://api.cloud.zilliz.com" })).toThrow(/plain http.*127\.0\.0\.1/);
  });
});

describe("StageClient against a misbehaving server", () => {
  let server: Server;
  let url: string;
  let answers: Array<(res: import("node:http").ServerResponse) => void>;
  let seen = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      const answer = answers[Math.min(seen++, answers.length - 1)];
      answer(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (seen = 0));

  test("a body that is not JSON is an API error with an excerpt", async () => {
    answers = [(res) => res.end("<html>gateway</html>")];
    const client = new StageClient({ endpoint: url, apiKey: "k", retry: FAST });
    const err = await client.listStages({ projectId: "p" }).catch((e) => e);
    await client.close();
    expect(err).toBeInstanceOf(ZillizApiError);
    expect(err.message).toMatch(/not JSON.*gateway/);
  });

  test("an error answered as HTTP 200 with a code is typed, hinted by its code and keeps the request id", async () => {
    answers = [
      (res) => {
        res.setHeader("x-request-id", "req-123");
        res.end(JSON.stringify({ code: 80001, message: "invalid token" }));
      },
    ];
    const client = new StageClient({ endpoint: url, apiKey: "k", retry: FAST });
    const err = await client.listStages({ projectId: "p" }).catch((e) => e);
    await client.close();
    expect(err).toBeInstanceOf(ZillizApiError);
    expect(err).toMatchObject({ status: 200, apiCode: 80001, requestId: "req-123" });
    expect(err.message).toContain("zillizcloud:apiKey");
    expect(err.message).toContain("req-123");
    expect(seen).toBe(1);
  });

  test("not found and already exists are recognised by their message on an HTTP 200, with the envelope's request id", async () => {
    answers = [(res) => res.end(JSON.stringify({ code: 63242, message: "stage already exist", requestId: "env-9" }))];
    const client = new StageClient({ endpoint: url, apiKey: "k", retry: FAST });
    const exists = await client.createStage({ projectId: "p", regionId: "r", stageName: "s" }).catch((e) => e);
    expect(isAlreadyExists(exists)).toBe(true);
    expect(exists).toMatchObject({ requestId: "env-9", apiCode: 63242 });
    expect(exists.message).toMatch(/name is taken/);
    seen = 0;
    answers = [(res) => res.end(JSON.stringify({ code: 1001, message: "stage not exist" }))];
    expect(await client.deleteStage("s")).toEqual({ stageName: "s", existed: false });
    await client.close();
  });

  test("a response that does not match the schema names the field", async () => {
    answers = [(res) => res.end(JSON.stringify({ code: 200, data: { count: "many", currentPage: 1, pageSize: 10, stages: [] } }))];
    const client = new StageClient({ endpoint: url, apiKey: "k", retry: FAST });
    const err = await client.listStages({ projectId: "p" }).catch((e) => e);
    await client.close();
    expect(err.message).toMatch(/data\.count/);
  });

  test("an HTTP-date Retry-After is honoured", async () => {
    answers = [
      (res) => {
        res.statusCode = 503;
        res.setHeader("retry-after", new Date(Date.now() + 1500).toUTCString());
        res.end(JSON.stringify({ code: 503, message: "busy" }));
      },
      (res) => res.end(JSON.stringify({ code: 200, data: { count: 0, currentPage: 1, pageSize: 10, stages: [] } })),
    ];
    const client = new StageClient({ endpoint: url, apiKey: "k", retry: { ...FAST, maxDelayMs: 5000 } });
    const started = Date.now();
    await client.listStages({ projectId: "p" });
    await client.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(seen).toBe(2);
  });
});
