// Two emulator behaviours the provider's safety relies on: the fault that
// carries a call out and loses its answer, and listings with URL-encoded keys.
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { ImportJobClient, StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizTransportError } from "../../provider/errors";
import { jsonRows } from "../helpers/data-files";
import { putObjects, stageS3 } from "../helpers/s3";

describe("emulator: lose-answer and encoding-type", () => {
  let emu: Emulator;
  let rest: StageClient;

  beforeAll(async () => {
    emu = await startEmulator({ collections: ["in01-emulator/quickstart"] });
    rest = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await rest.createStage({ projectId: "p", regionId: "r", stageName: "raw" });
  });
  afterAll(async () => {
    await rest.close();
    await emu.stop();
  });

  test("lose-answer: the create is carried out (the job exists) but the client gets no answer", async () => {
    await putObjects(rest, "raw", { "a.json": jsonRows(2) });
    const jobs = new ImportJobClient(rest);
    emu.faults.add({ target: "import:create", mode: "lose-answer" });
    const err = await jobs.create({ clusterId: "in01-emulator", collectionName: "quickstart", stageName: "raw", dataPaths: [["a.json"]] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZillizTransportError);
    const page = await jobs.list({ clusterId: "in01-emulator" }, { collectionName: "quickstart" });
    expect(page.records).toHaveLength(1);
    // Not retried: a second job would import the rows twice.
    expect(emu.requests().filter((r) => r.kind === "import:create")).toHaveLength(1);
  });

  test("ListObjectsV2 with encoding-type=url encodes keys (a space as +) and says so; other values are refused", async () => {
    const names = ["sp ace.json", "plus+.json", "pct%.json", "cr\r.json"];
    await putObjects(rest, "raw", Object.fromEntries(names.map((n) => [`enc/${n}`, n])));
    const { s3, target } = await stageS3(rest, "raw");
    try {
      const prefix = `${target.stagePrefix}enc/`;
      const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: prefix, EncodingType: "url" }));
      expect(page.EncodingType).toBe("url");
      const keys = (page.Contents ?? []).map((o) => o.Key!.slice(encodeURIComponent(prefix).replace(/%2F/g, "/").length));
      expect(keys.sort()).toEqual(["cr%0D.json", "pct%25.json", "plus%2B.json", "sp+ace.json"]);
      const plain = await s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: prefix }));
      expect(plain.EncodingType).toBeUndefined();
      await expect(s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: prefix, EncodingType: "base64" as "url" }))).rejects.toThrow(/Invalid Encoding Method/);
    } finally {
      s3.destroy();
    }
  });
});
