import { ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import type { StageClient } from "../../provider/client";
import type { StageUploadTarget } from "../../provider/client/schemas";

/** An ordinary S3 client holding the temporary credentials of an apply answer. */
export function s3ForTarget(target: StageUploadTarget): S3Client {
  const c = target.credentials;
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken },
  });
}

/** Multipart uploads the store still holds under a stage, asked over S3 with fresh stage credentials. */
export async function pendingUploads(client: StageClient, stageName: string): Promise<unknown[]> {
  const target = await client.applyUploadTarget({ stageName, path: "" });
  const s3 = s3ForTarget(target);
  try {
    return (await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucketName, Prefix: target.stagePrefix }))).Uploads ?? [];
  } finally {
    s3.destroy();
  }
}
