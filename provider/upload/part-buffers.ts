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

/** Bodies at most this large are pooled; larger ones are few, and their own I/O dwarfs an allocation. */
const POOLED_BODY_MAX = 4 * 1024 * 1024;
/** The smallest pooled capacity: below it Node's shared slab already serves allocUnsafe. */
const POOLED_BODY_MIN = 64 * 1024;

/**
 * Buffers for whole small files sent in one PUT, reused by capacity (powers
 * of two). An object source's 1,000 objects of 256 KiB were a quarter of a
 * gigabyte of fresh buffers, and the garbage collector's time for them
 * rivalled the SHA-256 (issue 18's benchmark). A body holds a request slot
 * while it is out, so each capacity holds at most as many buffers as slots.
 */
/** Whether take() pools a body of this many bytes; give() asks the same. */
function pooled(size: number): boolean {
  return size >= POOLED_BODY_MIN && size <= POOLED_BODY_MAX;
}

export class BodyBuffers {
  private readonly free = new Map<number, Buffer[]>();

  /** A buffer of exactly `size` bytes (a view of a pooled one when it is of a pooled size), its content undefined. */
  take(size: number): Buffer {
    if (!pooled(size)) return Buffer.allocUnsafe(size);
    const capacity = 2 ** Math.ceil(Math.log2(size));
    const backing = this.free.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity);
    return backing.subarray(0, size);
  }

  /** Gives back a buffer from take(), once nothing reads it any more. */
  give(buffer: Buffer): void {
    // What take() did not pool is left alone before `.buffer` is touched: reading
    // it on each of 100,000 small bodies kept their memory (a provider grew from
    // 536 to 927 MiB uploading 100,000 files of 4 KiB, run A).
    if (!pooled(buffer.length)) return;
    const capacity = buffer.buffer.byteLength;
    if (buffer.byteOffset !== 0 || !pooled(capacity) || capacity !== 2 ** Math.round(Math.log2(capacity))) return;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    list.push(Buffer.from(buffer.buffer, 0, capacity));
  }
}
