/**
 * How a large file is cut into multipart parts, in one place: the upload
 * cuts it so, and the scan computes each part's CRC32 on the same
 * boundaries while it hashes (hash.ts), so the upload can send them.
 */
const MiB = 1024 * 1024;

/** S3's limits on multipart uploads. */
export const MAX_PARTS = 10_000;
export const MIN_PART = 5 * MiB;
/** The part size an upload asks for unless told otherwise. */
export const DEFAULT_PART_SIZE = 8 * MiB;

/** The part size for a file of `size` bytes: `wanted`, grown to S3's minimum and so that no file needs more than 10,000 parts. */
export function partSizeFor(size: number, wanted = DEFAULT_PART_SIZE): number {
  return Math.max(wanted, MIN_PART, Math.ceil(size / MAX_PARTS));
}
