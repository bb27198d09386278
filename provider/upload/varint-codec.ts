/**
 * The byte-level pieces of this package's compact encodings (the manifest
 * the state keeps, and the packed `dataPaths` a TypeScript program sends an
 * ImportJob): unsigned LEB128 varints, length-prefixed UTF-8, zigzag for
 * signed differences, and sorted-path front coding. Only node's Buffer: the
 * program loads this too.
 */

export class Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Unsigned LEB128; exact up to 2^53 (no 32-bit bitwise operators). */
  varint(n: number): void {
    this.room(8);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  utf8(text: string): void {
    const n = Buffer.byteLength(text, "utf8");
    this.varint(n);
    this.room(n);
    this.length += this.buf.write(text, this.length, n, "utf8");
  }

  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export class Reader {
  pos = 0;
  /** `corrupt` makes the error for input that does not decode, saying why. */
  constructor(
    private readonly buf: Buffer,
    private readonly corrupt: (why: string) => Error,
  ) {}

  /** Whether every byte was read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw this.corrupt("it ends in the middle of a number");
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 56) throw this.corrupt("a number is too long");
    }
  }

  private skip(n: number): number {
    const start = this.pos;
    if (start + n > this.buf.length) throw this.corrupt("it is shorter than its entry count says");
    this.pos += n;
    return start;
  }

  utf8(): string {
    const n = this.varint();
    const start = this.skip(n);
    return this.buf.toString("utf8", start, start + n);
  }
}

/**
 * UTF-16 code units two paths share, never ending inside a surrogate pair
 * (the rest is written as UTF-8, which cannot hold half a pair).
 */
function sharedPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let n = 0;
  while (n < max && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  if (n > 0 && n < b.length) {
    const last = b.charCodeAt(n - 1);
    if (last >= 0xd800 && last <= 0xdbff) n--;
  }
  return n;
}

/** Writes `path` as the code units it shares with `prev` and the UTF-8 of the rest. */
export function writePath(w: Writer, prev: string, path: string): void {
  const shared = sharedPrefix(prev, path);
  w.varint(shared);
  w.utf8(path.slice(shared));
}

/** Reads what writePath wrote after `prev`. */
export function readPath(r: Reader, prev: string, corrupt: (why: string) => Error): string {
  const shared = r.varint();
  if (shared > prev.length) throw corrupt("a path shares more than its predecessor has");
  return prev.slice(0, shared) + r.utf8();
}

export const zigzag = (n: number): number => (n < 0 ? -n * 2 - 1 : n * 2);
export const unzigzag = (n: number): number => (n % 2 === 1 ? -(n + 1) / 2 : n / 2);
