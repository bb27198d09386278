/**
 * What a stage holds under a path, read with the stage's own temporary
 * credentials: `read` (refresh) uses it to notice files removed or changed
 * behind Pulumi's back.
 */
import type { StorageRef } from "../client/dialect";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { createS3Client, s3RetryPolicy, s3Sdk, withS3Retry } from "./s3";

/**
 * A key as a listing gave it. The SDK does not decode keys it asked to be
 * URL-encoded; a store that ignores the request says so by leaving out
 * EncodingType, and its keys are taken as they are. S3 encodes a space as "+".
 */
export function listedKey(key: string, encodingType: string | undefined): string {
  return encodingType === "url" ? decodeURIComponent(key.replace(/\+/g, " ")) : key;
}

/** relative path (below `path`) -> size, for every object under stagePrefix + path. */
export async function listRemoteFiles(
  source: UploadTargetSource,
  where: StorageRef,
): Promise<Map<string, number>> {
  const targets = new UploadTargetCache(source, where);
  const target = await targets.get();
  const { ListObjectsV2Command } = s3Sdk();
  const s3 = createS3Client(target, { targets, maxSockets: 2 });
  const prefix = target.prefix + where.path;
  const files = new Map<string, number>();
  try {
    let token: string | undefined;
    do {
      const page = await withS3Retry(
        targets,
        s3RetryPolicy(),
        // URL-encoded keys: XML cannot carry some control characters, and a CR would come back as LF.
        () => s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: prefix, ContinuationToken: token, EncodingType: "url" })),
        { operation: `ListObjectsV2 ${prefix}` },
      );
      for (const o of page.Contents ?? []) if (o.Key) files.set(listedKey(o.Key, page.EncodingType).slice(prefix.length), o.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.destroy();
  }
  return files;
}
