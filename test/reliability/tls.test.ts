// An https URL pointed at a plain http server is a configuration error, not
// a transient one: one attempt, then an error that says what to fix. The
// server is real (node's http on 127.0.0.1); it counts the connections.
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StageClient } from "../../provider/client";
import type { StageUploadTarget } from "../../provider/client/schemas";
import { ZillizTlsError, ZillizUploadError } from "../../provider/errors";
import { executeUpload, scanSource } from "../../provider/upload";
import { mkTmp, rmTmp, writeTree } from "../helpers/fs";

describe("TLS against a plain http server", () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end("{}"));
    server.on("connection", () => connections++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (connections = 0));

  test("REST: fails after one attempt with a ZillizTlsError that says to use http://", async () => {
    const client = new StageClient({ endpoint: `https://127.0.0.1:${port}`, apiKey: "k", retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 100 } });
    const err = await client.listStages({ projectId: "p" }).catch((e: unknown) => e);
    await client.close();
    expect(err).toBeInstanceOf(ZillizTlsError);
    expect(err).toMatchObject({ code: "ZILLIZ_ERR_TLS" });
    expect((err as Error).message).toMatch(/plain http.*use http:\/\//);
    expect((err as Error).message).not.toMatch(/gave up/);
    expect(connections).toBe(1);
  });

  test("S3: an upload to an https store endpoint that speaks http fails after one attempt and says what to fix", async () => {
    const dir = await mkTmp();
    try {
      await writeTree(dir, { "a.json": "A" });
      const scan = await scanSource(dir);
      const target: StageUploadTarget = {
        stageName: "s",
        stagePrefix: "stages/p/s/",
        prefix: "stages/p/s/",
        endpoint: `https://127.0.0.1:${port}`,
        bucketName: "b",
        region: "us-west-2",
        condition: { maxContentLength: 1e9 },
        credentials: { tmpAK: "AK", tmpSK: "SK", sessionToken: "TOKEN", expireTime: new Date(Date.now() + 3_600_000).toISOString() },
      };
      const err = await executeUpload(
        { stageName: "s", path: "", root: scan.root, manifest: scan.manifest, upload: ["a.json"], delete: [] },
        { targets: { applyUploadTarget: async () => target }, maxAttempts: 5 },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZillizUploadError);
      expect((err as Error).cause).toBeInstanceOf(ZillizTlsError);
      expect((err as Error).message).toMatch(/plain http.*use http:\/\//);
      expect(connections).toBe(1);
    } finally {
      await rmTmp(dir);
    }
  });
});
