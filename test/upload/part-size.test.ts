// How a file is cut into parts and each part's CRC32 computed as chunks
// stream past: the upload sends these CRC32s as the proof of its bytes, so a
// chunk that straddles a part boundary must split its bytes exactly.
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { MIN_PART, MAX_PARTS, PartCrcs, partSizeFor } from "../../provider/upload/part-size";

const MiB = 1024 * 1024;

describe("part-size", () => {
  test.each([
    ["chunks that straddle the boundaries", 7],
    ["chunks larger than a part", 25],
    ["one byte at a time", 1],
  ])("PartCrcs: each part's CRC32, with %s", (_name, chunk) => {
    const data = randomBytes(53);
    const parts = new PartCrcs(10);
    for (let at = 0; at < data.length; at += chunk) parts.update(data.subarray(at, at + chunk));
    parts.close();
    const want = [0, 10, 20, 30, 40, 50].map((at) => crc32(data.subarray(at, at + 10)));
    expect(parts.crc32).toEqual(want);
  });

  test("PartCrcs: a stream that ends on a boundary has no empty last part; closing twice adds nothing", () => {
    const data = randomBytes(20);
    const parts = new PartCrcs(10);
    parts.update(data);
    parts.close();
    parts.close();
    expect(parts.crc32).toEqual([crc32(data.subarray(0, 10)), crc32(data.subarray(10))]);
  });

  test("partSizeFor: the wanted size, at least S3's minimum, grown so no file needs more than 10,000 parts", () => {
    expect(partSizeFor(100 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(100 * MiB, MiB)).toBe(MIN_PART);
    expect(MIN_PART).toBe(5 * MiB);
    const huge = 200_000 * MiB;
    expect(partSizeFor(huge)).toBe(Math.ceil(huge / MAX_PARTS));
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(MAX_PARTS);
  });
});
