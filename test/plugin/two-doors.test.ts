// One lifecycle, both doors: the dynamic provider (serialized shim in the
// SDK's dynamic-provider server) and the native plugin (its executable),
// each spoken to over the provider protocol against the emulator, must
// behave the same: same ids, same replacements, same recorded files. Needs
// `npm run build` first (both load dist/).
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ZillizClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { serializableProvider } from "../../provider/resources/provider-shim";
import type { ProviderKind } from "../../provider/resources/runtime";
import { ImportJobClient } from "../../provider/client";
import { DynamicProviderServer } from "../helpers/dynamic-provider-server";
import { inspectCollection, untilRows } from "../helpers/merge";
import { putObjects } from "../helpers/s3";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

type Props = Record<string, unknown>;
interface Door {
  name: string;
  start(emu: Emulator): Promise<DynamicProviderServer>;
  urn(type: string, name: string): string;
  /** What the door adds to a resource's inputs. */
  extra(kind: ProviderKind): Promise<Props>;
}

const DOORS: Door[] = [
  {
    name: "dynamic provider",
    start: async (emu) => {
      const server = await DynamicProviderServer.start();
      await server.configure({ "zillizcloud:apiKey": emu.apiKey, "zillizcloud:endpoint": emu.url });
      return server;
    },
    urn: (type, name) => `urn:pulumi:dev::test-project::pulumi-nodejs:dynamic/zillizcloud:${type}::${name}`,
    extra: async (kind) => {
      const provider = serializableProvider(kind);
      return { __provider: (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text };
    },
  },
  {
    name: "native plugin",
    start: (emu) => DynamicProviderServer.startNative({ PULUMI_CONFIG: JSON.stringify({ apiKey: emu.apiKey, endpoint: emu.url }) }),
    urn: (type, name) => `urn:pulumi:dev::proj::zillizcloud:index:${type}::${name}`,
    extra: async () => ({}),
  },
];

describe.each(DOORS)("the same lifecycle through the $name", (door) => {
  let emu: Emulator;
  let server: DynamicProviderServer;
  let client: ZillizClient;
  let dir: string;

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-doors/books"] });
    server = await door.start(emu);
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    dir = await mkTmp();
  });
  afterAll(async () => {
    await server?.stop();
    await client?.close();
    await emu?.stop();
    if (dir) await rmTmp(dir);
  });

  test("Volume: check refuses bad input by field; create, no-op, replacement on a new region, read, delete", async () => {
    const u = door.urn("Volume", "v");
    const inputs = { ...(await door.extra("volume")), projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "doors" };
    expect((await server.check(u, {}, { ...inputs, volumeName: "bad name" })).failures.map((f) => f.property)).toEqual(["volumeName"]);
    const checked = (await server.check(u, {}, inputs)).inputs;
    const created = await server.create(u, checked);
    expect(created.id).toBe("doors");
    expect(created.properties).toMatchObject({ projectId: "proj-1", volumeName: "doors", type: "MANAGED" });
    expect(await server.diff(u, "doors", created.properties, checked)).toMatchObject({ changes: 1, replaces: [] });
    expect(await server.diff(u, "doors", created.properties, { ...checked, regionId: "gcp-us-west1" })).toMatchObject({
      changes: 2,
      replaces: ["regionId"],
      deleteBeforeReplace: true,
    });
    expect((await server.read(u, "doors", created.properties)).properties).toMatchObject({ volumeName: "doors", type: "MANAGED" });
    await server.delete(u, "doors", created.properties);
    expect(await client.describeVolume("doors")).toBeUndefined();
  });

  test("VolumeFiles: create uploads every file, an update only the changed one, delete removes exactly them", async () => {
    await client.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "doorfiles" });
    const src = path.join(dir, "src");
    await writeTree(src, { "a.json": "[1]", "b/c.json": "[2]" });
    const u = door.urn("VolumeFiles", "f");
    const inputs = { ...(await door.extra("volumeFiles")), volumeName: "doorfiles", source: src, path: "d/" };
    const created = await server.create(u, (await server.check(u, {}, inputs)).inputs);
    expect(created.id).toBe("doorfiles/d/");
    expect(created.properties.fileCount).toBe(2);
    await writeTree(src, { "a.json": "[1,1]" });
    const news = (await server.check(u, created.properties, inputs)).inputs;
    expect((await server.diff(u, created.id, created.properties, news)).changes).toBe(2);
    emu.clearRequests();
    const updated = await server.update(u, created.id, created.properties, news);
    expect(emu.requests().filter((r) => r.kind === "s3:put" && r.status === 200).map((r) => r.key!.replace(/^.*\/d\//, ""))).toEqual(["a.json"]);
    expect(updated.manifestHash).not.toBe(created.properties.manifestHash);
    await server.delete(u, created.id, updated);
    expect(emu.listObjects()).toEqual([]);
  });

  test("MergeJob: check names the bad field; create makes the new collection with the field added; no-op diff; delete leaves it", async () => {
    await client.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "doormerge" });
    await putObjects(client, "doormerge", { "books.json": JSON.stringify({ rows: [1, 2, 3].map((id) => ({ id, title: `book ${id}` })) }) });
    await new ImportJobClient(client).create({ clusterId: "in01-doors", collectionName: "books", volumeName: "doormerge", dataPaths: [["books.json"]] });
    await untilRows(emu, "in01-doors/default/books", 3);
    const u = door.urn("MergeJob", "m");
    const extra = await door.extra("mergeJob");
    const inputs = { ...extra, clusterId: "in01-doors", collectionName: "books", destCollectionName: "books_rated", mergeField: "id", newFields: [{ fieldName: "rating", dataType: "DOUBLE" }] };
    const bad = await server.check(u, {}, { ...inputs, newFields: [{ fieldName: "genre", dataType: "VARCHAR" }] });
    expect(bad.failures.map((f) => f.property)).toEqual(["newFields[0].maxLength"]);
    const created = await server.create(u, (await server.check(u, {}, inputs)).inputs);
    expect(created.properties).toMatchObject({ jobId: created.id, status: "SUCCESSFUL", destCollectionName: "books_rated", newFields: [{ fieldName: "rating", dataType: "DOUBLE" }] });
    const page = (await inspectCollection(emu, "in01-doors/default/books_rated"))!;
    expect(page.fields.map((f) => f.name)).toEqual(["id", "title", "rating"]);
    const news = (await server.check(u, created.properties, inputs)).inputs;
    expect((await server.diff(u, created.id, created.properties, news)).changes).toBe(1);
    await server.delete(u, created.id, created.properties);
    expect(await inspectCollection(emu, "in01-doors/default/books_rated")).toBeDefined();
  });
});
