// The provider process stopped mid-upload, as the engine runs it (the SDK's
// dynamic-provider server loading the serialized provider from dist): a
// SIGTERM, and the engine above it killed with -9. Either way the process
// exits within the engine's five-second grace, and leaves no incomplete
// multipart upload behind. Needs `npm run build` first (npm test does it).
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { serializableProvider } from "../../provider/resources/provider-shim";
import { DynamicProviderServer } from "../helpers/dynamic-provider-server";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";
import { descendants, waitGone } from "../helpers/processes";
import { pendingUploads } from "../helpers/s3";

const MiB = 1024 * 1024;
const URN = "urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:StagedFiles::big";

jest.setTimeout(60_000);

describe("the provider process stopped mid-multipart", () => {
  let emu: Emulator;
  let client: StageClient;
  let dir: string;
  let server: DynamicProviderServer | undefined;

  beforeAll(async () => {
    emu = await startEmulator();
    client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "big" });
    dir = await mkTmp();
    // Two files that go multipart (16 MiB and above), 8 MiB parts.
    await pendingUploads(client, "big"); // loads the AWS SDK now, not while the parts are slow
    await writeTree(dir, { "a.bin": randomBytes(40 * MiB), "b.bin": randomBytes(40 * MiB) });
  });
  afterEach(async () => {
    emu.faults.clear();
    await server?.stop().catch(() => undefined);
    server = undefined;
  });
  afterAll(async () => {
    await client.close();
    await emu.stop();
    await rmTmp(dir);
  });

  /** Starts a create of both files whose parts never get an answer; resolves once both uploads are started. */
  async function createMidMultipart(asEngine: boolean): Promise<{ create: Promise<unknown> }> {
    server = await DynamicProviderServer.start(undefined, {}, { asEngine });
    await server.configure({ "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url });
    const __provider = (await pulumi.runtime.serializeFunction(() => serializableProvider("stagedFiles"), { allowSecrets: true })).text;
    const checked = await server.check(URN, {}, { __provider, stageName: "big", source: dir, path: `run-${Date.now()}/` });
    expect(checked.failures).toEqual([]);
    emu.clearRequests();
    emu.faults.add({ target: "s3:part", count: 1000, mode: "stall" });
    const create = server.create(URN, checked.inputs).catch((err: unknown) => err);
    const deadline = Date.now() + 20_000;
    while (emu.requests().filter((r) => r.kind === "s3:initiate").length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Wrapped: an async function returning the promise itself would wait for it.
    return { create };
  }

  test("SIGTERM: the uploads in flight are aborted and the process exits", async () => {
    const { create } = await createMidMultipart(false);
    const exited = new Promise<number | null>((r) => server!.child.once("exit", (code) => r(code)));
    const t0 = Date.now();
    server!.child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await create;
    expect(emu.requests().filter((r) => r.kind === "s3:abort" && r.status === 204)).toHaveLength(2);
    expect(emu.requests().filter((r) => r.kind === "s3:complete")).toEqual([]);
    expect(await pendingUploads(client, "big")).toEqual([]);
    expect(server!.output.stderr).toMatch(/SIGTERM: stopping 1 upload\(s\)/);
  });

  test("the engine killed with -9: the provider notices, aborts the uploads in flight and exits", async () => {
    const { create } = await createMidMultipart(true);
    const below = await descendants(server!.child.pid!);
    const provider = below.find((p) => p.command.includes("dynamic-provider"));
    expect(provider).toBeDefined();
    server!.child.kill("SIGKILL");
    expect(await waitGone(below.map((p) => p.pid), 5_000)).toEqual([]);
    await create;
    expect(emu.requests().filter((r) => r.kind === "s3:abort" && r.status === 204)).toHaveLength(2);
    expect(await pendingUploads(client, "big")).toEqual([]);
  });
});
