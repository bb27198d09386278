/**
 * What a stage holds under a path, read with the stage's own temporary
 * credentials: `read` (refresh) uses it to notice files removed or changed
 * behind Pulumi's back.
 */
import type { StorageRef } from "../client/dialect";
import { UploadTargetCache, UploadTargetSource } from "./credentials";
import { SHA256_METADATA } from "./manifest";
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

/**
 * Every object under stagePrefix + path with its size and the SHA-256 this
 * package records on each object it stores (x-amz-meta-sha256; undefined for
 * an object put there some other way). What an import rebuilds a files
 * resource from: one list, then one HEAD per object.
 */
export async function listRemoteDigests(
  source: UploadTargetSource,
  where: StorageRef,
): Promise<Map<string, { size: number; sha256?: string }>> {
  const sizes = await listRemoteFiles(source, where);
  const targets = new UploadTargetCache(source, where);
  const target = await targets.get();
  const { HeadObjectCommand } = s3Sdk();
  const s3 = createS3Client(target, { targets, maxSockets: 4 });
  const prefix = target.prefix + where.path;
  const out = new Map<string, { size: number; sha256?: string }>();
  try {
    for (const [rel, size] of sizes) {
      const head = await withS3Retry(targets, s3RetryPolicy(), () => s3.send(new HeadObjectCommand({ Bucket: target.bucketName, Key: prefix + rel })), {
        operation: `HeadObject ${prefix + rel}`,
      });
      out.set(rel, { size, sha256: head.Metadata?.[SHA256_METADATA] });
    }
  } finally {
    s3.destroy();
  }
  return out;
}
