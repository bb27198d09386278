// The run's credential cache, driven by an in-process apply source that
// counts its calls. No network.
import type { StageUploadTarget } from "../../provider/client/schemas";
import { UploadTargetCache } from "../../provider/upload/credentials";

function source(lifetimeMs: number) {
  let applies = 0;
  return {
    get applies() {
      return applies;
    },
    async applyUploadTarget(req: { stageName: string; path: string }): Promise<StageUploadTarget> {
      const n = ++applies;
      await new Promise((r) => setTimeout(r, 10));
      return {
        stageName: req.stageName,
        stagePrefix: "stages/p/s/",
        prefix: "stages/p/s/",
        endpoint: "http://127.0.0.1:1",
        bucketName: "b",
        region: "r",
        condition: { maxContentLength: 100 },
        credentials: { tmpAK: `AK${n}secret`, tmpSK: `SK${n}secret`, sessionToken: `TOKEN${n}secret`, expireTime: new Date(Date.now() + lifetimeMs).toISOString() },
      };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("UploadTargetCache", () => {
  test("concurrent callers share one apply; the answer is reused while fresh", async () => {
    const src = source(3_600_000);
    const cache = new UploadTargetCache(src, { stageName: "s", path: "" });
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
    expect(src.applies).toBe(1);
    expect(new Set(all).size).toBe(1);
    await cache.get();
    expect(cache.applies).toBe(1);
  });

  test("a refused token is replaced once, however many requests saw it fail", async () => {
    const src = source(3_600_000);
    const cache = new UploadTargetCache(src, { stageName: "s", path: "" });
    const old = await cache.get();
    for (let i = 0; i < 5; i++) cache.invalidate(old);
    const renewed = await Promise.all(Array.from({ length: 5 }, () => cache.get()));
    expect(src.applies).toBe(2);
    expect(renewed[0].credentials.tmpAK).toBe("AK2secret");
    // A late failure with the old token does not throw away the new one.
    cache.invalidate(old);
    await cache.get();
    expect(src.applies).toBe(2);
  });

  test("renews refreshMarginMs before expireTime", async () => {
    const src = source(400);
    const cache = new UploadTargetCache(src, { stageName: "s", path: "" }, 300);
    await cache.get();
    await cache.get();
    expect(src.applies).toBe(1);
    await sleep(150); // inside the margin now
    expect((await cache.get()).credentials.tmpAK).toBe("AK2secret");
  });

  test("an apply failure reaches the caller, and the next call tries again", async () => {
    let fail = true;
    const inner = source(3_600_000);
    const cache = new UploadTargetCache(
      {
        applyUploadTarget: async (req) => {
          if (fail) throw new Error("apply refused");
          return inner.applyUploadTarget(req as { stageName: string; path: string });
        },
      },
      { stageName: "s", path: "" },
    );
    await expect(cache.get()).rejects.toThrow("apply refused");
    fail = false;
    await expect(cache.get()).resolves.toMatchObject({ bucketName: "b" });
  });

  test("redact removes every key and token handed out in the run", async () => {
    const src = source(3_600_000);
    const cache = new UploadTargetCache(src, { stageName: "s", path: "" });
    const a = await cache.get();
    cache.invalidate(a);
    const b = await cache.get();
    const text = `denied for ${a.credentials.tmpAK} / ${b.credentials.sessionToken} sig ${b.credentials.tmpSK}`;
    expect(cache.redact(text)).toBe("denied for [redacted] / [redacted] sig [redacted]");
  });
});

describe("UploadTargetCache renewal margin, as the SDKs: 300 s, or a quarter of a shorter lifetime", () => {
  afterEach(() => jest.restoreAllMocks());

  test.each([
    [3_600_000, 300_000],
    [60_000, 15_000],
  ])("credentials living %i ms are renewed %i ms before they expire", async (lifetimeMs, marginMs) => {
    let now = 1_800_000_000_000;
    jest.spyOn(Date, "now").mockImplementation(() => now);
    const src = source(lifetimeMs);
    const cache = new UploadTargetCache(src, { stageName: "s", path: "" });
    await cache.get();
    now += lifetimeMs - marginMs - 1000;
    await cache.get();
    expect(src.applies).toBe(1);
    now += 2000;
    expect((await cache.get()).credentials.tmpAK).toBe("AK2secret");
  });
});
