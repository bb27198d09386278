/**
 * Buffers for multipart parts, reused from one part to the next. A fresh
 * 8 MiB buffer per part has the kernel zero-fill new pages and the garbage
 * collector free old backing stores, part after part: measured at about a
 * quarter of the provider's CPU for a gigabyte of large files (issue 20).
 * A part holds a request slot while its buffer is out, so the pool never
 * holds more buffers than there are slots.
 */
export class PartBuffers {
  private size = 0;
  private free: Buffer[] = [];

  /** A buffer of exactly `size` bytes, its content undefined. */
  take(size: number): Buffer {
    if (size !== this.size) {
      // Part sizes differ only for files so large that 10,000 parts of the
      // usual size would not hold them; the old size is not needed again soon.
      this.size = size;
      this.free = [];
    }
    return this.free.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  /** Gives back a buffer from take(), once nothing reads it any more. */
  give(buffer: Buffer): void {
    if (buffer.length === this.size) this.free.push(buffer);
  }
}
