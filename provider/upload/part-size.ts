/**
 * How a large file is cut into multipart parts, in one place: the upload
 * cuts it so, and the scan computes each part's CRC32 on the same
 * boundaries while it hashes (hash.ts), so the upload can send them.
 */
import { crc32 } from "node:zlib";

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

/** Files at least this large go multipart unless an upload is told otherwise; smaller ones in one PUT. */
export const MULTIPART_THRESHOLD = 16 * MiB;

/**
 * Files this big (those an upload sends in parts by default) get their
 * parts' CRC32s computed in the same pass as the SHA-256: about a third of
 * a SHA-256's cost, on the hashing threads (or as an object source is read),
 * and the upload sends them instead of hashing the file again
 * (multipart.ts). Smaller files go in one PUT that the store checks against
 * the SHA-256 itself, so CRC32s for them would be work thrown away; an
 * upload told to cut them anyway hashes them as it sends.
 */
export const PARTS_MIN_BYTES = MULTIPART_THRESHOLD;

/** CRC32s of consecutive `partSize`-byte parts of a stream of chunks. */
export class PartCrcs {
  readonly crc32: number[] = [];
  private crc = 0;
  private filled = 0;

  constructor(readonly partSize: number) {}

  update(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; ) {
      const take = Math.min(chunk.length - off, this.partSize - this.filled);
      this.crc = crc32(chunk.subarray(off, off + take), this.crc);
      this.filled += take;
      off += take;
      if (this.filled === this.partSize) this.close();
    }
  }

  close(): void {
    if (this.filled > 0) this.crc32.push(this.crc);
    this.crc = 0;
    this.filled = 0;
  }
}
