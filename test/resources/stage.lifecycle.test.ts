// The Stage provider against the emulator, called the way the engine calls it.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type * as pulumi from "@pulumi/pulumi";
import { ZillizApiError } from "../../provider/errors";
import { startEmulator, Emulator } from "../../provider/emulator";
import { configuredProvider } from "../helpers/provider";

describe("Stage provider", () => {
  let emu: Emulator;
  let provider: Required<pulumi.dynamic.ResourceProvider>;
  let close: () => Promise<void>;
  const inputs = { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw_vectors" };

  beforeEach(async () => {
    emu = await startEmulator();
    ({ provider, close } = await configuredProvider("stage", { "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url }));
  });
  afterEach(async () => {
    await close();
    await emu.stop();
  });

  test("check names the broken property", async () => {
    const result = await provider.check({}, { ...inputs, stageName: "bad name" });
    expect(result.failures).toEqual([{ property: "stageName", reason: expect.stringContaining("letters, digits") }]);
  });

  test("create, no-op diff, refresh, delete, delete again", async () => {
    const created = await provider.create(inputs);
    expect(created.id).toBe("raw_vectors");
    expect(created.outs).toEqual(inputs);
    expect(emu.listStageNames()).toEqual(["raw_vectors"]);

    expect(await provider.diff(created.id, created.outs, inputs)).toMatchObject({ changes: false, replaces: [] });

    const read = await provider.read(created.id, created.outs);
    expect(read).toEqual({ id: "raw_vectors", props: inputs });

    await provider.delete(created.id, created.outs);
    expect(emu.listStageNames()).toEqual([]);
    // Already gone: still a success.
    await provider.delete(created.id, created.outs);
  });

  test("a changed input replaces; same name deletes first", async () => {
    const sameName = await provider.diff("raw_vectors", inputs, { ...inputs, regionId: "aws-us-east-1" });
    expect(sameName).toEqual({ changes: true, replaces: ["regionId"], deleteBeforeReplace: true });
    const renamed = await provider.diff("raw_vectors", inputs, { ...inputs, stageName: "other" });
    expect(renamed).toEqual({ changes: true, replaces: ["stageName"], deleteBeforeReplace: false });
  });

  test("refresh after out-of-band deletion drops the resource", async () => {
    const created = await provider.create(inputs);
    const res = await fetch(`${emu.url}/v2/stages/raw_vectors`, { method: "DELETE", headers: { Authorization: `Bearer ${emu.apiKey}` } });
    expect(res.status).toBe(200);
    expect(await provider.read(created.id, created.outs)).toEqual({});
  });

  test("refresh: read of an existing stage by its name", async () => {
    await provider.create(inputs);
    const read = await provider.read("raw_vectors", { projectId: "proj-1", regionId: "aws-us-west-2" });
    expect(read).toEqual({ id: "raw_vectors", props: inputs });
  });

  test("a name already taken says how to adopt it", async () => {
    await provider.create(inputs);
    await expect(provider.create(inputs)).rejects.toThrow(/already exists.*adopt: true/s);
  });

  test("a wrong key fails without printing it", async () => {
    const bad = await configuredProvider("stage", { "zillizcloud:apiKey": "wrong-key-123", "zillizcloud:endpoint": emu.url });
    try {
      const error = await bad.provider.create(inputs).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/API key/);
      expect(JSON.stringify(error) + (error as Error).message + (error as Error).stack).not.toContain("wrong-key-123");
    } finally {
      await bad.close();
    }
  });
});

describe("Stage provider: connection changes and service-style errors", () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.stop());
  const inputs = { projectId: "proj-1", regionId: "aws-us-west-2", stageName: "raw_vectors" };

  test("a new connection is an update, never a replacement, and the state follows it", async () => {
    const { provider, close } = await configuredProvider("stage", {});
    try {
      const before = { ...inputs, connection: { endpoint: emu.url, apiKey: emu.apiKey } };
      const created = await provider.create(before);
      expect(created.outs.connection).toEqual(before.connection);
      // The same emulator under another name: only the connection changes.
      const after = { ...inputs, connection: { endpoint: emu.url.replace("127.0.0.1", "localhost"), apiKey: emu.apiKey } };
      const diff = await provider.diff(created.id, created.outs, after);
      expect(diff).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: false });
      const updated = await provider.update(created.id, created.outs, after);
      expect(updated.outs.connection).toEqual(after.connection);
      expect(emu.listStageNames()).toEqual(["raw_vectors"]);
      // Dropping the connection (back to stack config) is a change too.
      expect(await provider.diff(created.id, updated.outs, inputs)).toMatchObject({ changes: true, replaces: [] });
    } finally {
      await close();
    }
  });

  test("a name taken, answered as HTTP 200 with a code, still says how to adopt it and keeps the cause", async () => {
    const server = createServer((_req, res) => res.end(JSON.stringify({ code: 63001, message: "stage already exist" })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { provider, close } = await configuredProvider("stage", { "zillizcloud:apiKey": "k", "zillizcloud:endpoint": url });
    try {
      const err = await provider.create(inputs).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizApiError);
      expect((err as Error).message).toMatch(/already exists.*adopt: true/s);
      expect((err as Error).cause).toBeInstanceOf(ZillizApiError);
      expect((err as ZillizApiError).apiCode).toBe(63001);
    } finally {
      await close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
