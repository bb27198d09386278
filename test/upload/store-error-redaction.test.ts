// The store's SignatureDoesNotMatch body names the access key and quotes the
// canonical request (which holds the session token), as real S3's does. Our
// errors quote the canonical request (the clue to a signing bug) and must
// never carry the temporary credentials: neither in the message nor in the
// SDK error kept as the cause.
import { inspect } from "node:util";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ZillizClient } from "../../provider/client";
import type { StageUploadTarget } from "../../provider/client/schemas";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ZillizStoreError } from "../../provider/errors";
import { UploadTargetCache } from "../../provider/upload/credentials";
import { createS3Client, s3RetryPolicy, withS3Retry } from "../../provider/upload/s3";

describe("store errors", () => {
  let emu: Emulator;
  let client: ZillizClient;
  beforeAll(async () => {
    emu = await startEmulator();
    client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createVolume({ projectId: "proj-1", regionId: "aws-us-west-2", volumeName: "v" });
  });
  afterAll(async () => {
    await client.close();
    await emu.stop();
  });

  test("SignatureDoesNotMatch: the message shows what the store signed, with the access key and session token redacted", async () => {
    const handedOut: StageUploadTarget[] = [];
    // A client with a wrong secret: the store answers SignatureDoesNotMatch with the key id and canonical request.
    const cache = new UploadTargetCache(
      {
        applyUploadTarget: async (req) => {
          const t = await client.applyUploadTarget(req);
          handedOut.push(t);
          return { ...t, credentials: { ...t.credentials, tmpSK: "a-wrong-secret-key" } };
        },
      },
      { volumeName: "v", path: "" },
    );
    const first = await cache.get();
    const s3 = createS3Client(first, { targets: cache });
    const err = await withS3Retry(cache, s3RetryPolicy(1), () => s3.send(new PutObjectCommand({ Bucket: first.bucketName, Key: `${first.prefix}a`, Body: "x" })), {
      operation: "PutObject a",
    }).catch((e: unknown) => e);
    s3.destroy();

    expect(err).toBeInstanceOf(ZillizStoreError);
    const message = String((err as Error).message);
    expect(message).toMatch(/SignatureDoesNotMatch/);
    expect(message).toMatch(/The store signed this canonical request for access key \[redacted\]: "PUT\\n\/zilliz-stages\/volumes\/proj-1\/v\/a/);
    expect(message).toContain("x-amz-security-token:[redacted]");
    const everything = `${message}\n${inspect(err, { depth: 5 })}`;
    for (const t of handedOut) {
      expect(everything).not.toContain(t.credentials.tmpAK);
      expect(everything).not.toContain(t.credentials.sessionToken);
      expect(everything).not.toContain(t.credentials.tmpSK);
    }
  });
});
