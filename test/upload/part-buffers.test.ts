// Body buffers are reused by capacity, never handed out twice at once, and
// only for the sizes worth pooling.
import { BodyBuffers } from "../../provider/upload/part-buffers";

describe("small files' body buffers", () => {
  test("a body given back is reused for the next of its capacity; two out at once never share memory", () => {
    const pool = new BodyBuffers();
    const a = pool.take(256 * 1024);
    const b = pool.take(200 * 1024);
    expect([a.length, b.length]).toEqual([256 * 1024, 200 * 1024]);
    expect(a.buffer).not.toBe(b.buffer);
    pool.give(a);
    const c = pool.take(130 * 1024);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(130 * 1024);
    // Another capacity, and sizes outside the pooled range, are new buffers.
    expect(pool.take(100 * 1024).buffer).not.toBe(b.buffer);
    pool.give(b);
    expect(pool.take(1000).buffer).not.toBe(b.buffer);
    expect(pool.take(5 * 1024 * 1024).buffer.byteLength).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(pool.take(256 * 1024).buffer).toBe(b.buffer);
  });
});
