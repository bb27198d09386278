import { ListMultipartUploadsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { StageClient, StageUploadTarget } from "../../provider/client";
import { createS3Client } from "../../provider/upload/s3";

/** An S3 client on a stage with fresh temporary credentials, built as the engine builds its own; destroy it after use. */
export async function stageS3(client: StageClient, stageName: string): Promise<{ s3: S3Client; target: StageUploadTarget }> {
  const target = await client.applyUploadTarget({ stageName, path: "" });
  return { s3: createS3Client(target), target };
}

/** Multipart uploads the store still holds under a stage, asked over S3 with fresh stage credentials. */
export async function pendingUploads(client: StageClient, stageName: string): Promise<unknown[]> {
  const { s3, target } = await stageS3(client, stageName);
  try {
    return (await s3.send(new ListMultipartUploadsCommand({ Bucket: target.bucketName, Prefix: target.stagePrefix }))).Uploads ?? [];
  } finally {
    s3.destroy();
  }
}

/** Puts `files` (path inside the stage or managed volume -> bytes) with its temporary credentials, as an ordinary S3 client would. */
export async function putObjects(client: StageClient, stageName: string, files: Record<string, string | Buffer>): Promise<void> {
  const { s3, target } = await stageS3(client, stageName);
  try {
    for (const [p, body] of Object.entries(files)) {
      await s3.send(new PutObjectCommand({ Bucket: target.bucketName, Key: target.stagePrefix + p, Body: body }));
    }
  } finally {
    s3.destroy();
  }
}
