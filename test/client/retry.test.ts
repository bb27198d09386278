import { backoffDelay, parseRetryAfter, isRetryableStatus } from "../../provider/client/retry";

describe("retry policy", () => {
  test("exponential ceiling with full jitter, capped", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, policy, undefined, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, undefined, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, undefined, () => 0)).toBe(0);
  });

  test("Retry-After wins, within the cap", () => {
    expect(backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 5000 }, 2000)).toBe(2000);
    expect(backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 5000 }, 60_000)).toBe(5000);
  });

  test("Retry-After in seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  test("retryable statuses", () => {
    expect([429, 500, 502, 503].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 409].some(isRetryableStatus)).toBe(false);
  });
});
