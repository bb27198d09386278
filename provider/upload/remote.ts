/**
 * What a stage holds under a path, read with the stage's own temporary
 * credentials: `read` (refresh) uses it to notice files removed or changed
 * behind Pulumi's back.
 */
import type { StorageRef } from "../client/dialect";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { createS3Client, s3RetryPolicy, s3Sdk, withS3Retry } from "./s3";

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
        () => s3.send(new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: prefix, ContinuationToken: token })),
        { operation: `ListObjectsV2 ${prefix}` },
      );
      for (const o of page.Contents ?? []) if (o.Key) files.set(o.Key.slice(prefix.length), o.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.destroy();
  }
  return files;
}
