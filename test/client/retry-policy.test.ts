import { backoffDelay, certainlyNotDone, classifyFailure, parseRetryAfter, withRetry } from "../../provider/retry";

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

  test("throttling and server errors are transient; other statuses are not", () => {
    for (const status of [429, 500, 502, 503]) expect(classifyFailure({ status })).toMatchObject({ transient: true });
    for (const status of [400, 401, 403, 404, 409, 501]) expect(classifyFailure({ status })).toEqual({ transient: false });
    expect(classifyFailure({ status: 429, retryAfterMs: 1500 })).toEqual({ transient: true, retryAfterMs: 1500 });
  });

  test("S3's codes decide before the status: throttling retried, an expired token renewed", () => {
    expect(classifyFailure({ status: 400, code: "RequestTimeTooSkewed" })).toMatchObject({ transient: true });
    expect(classifyFailure({ status: 503, code: "SlowDown" })).toMatchObject({ transient: true });
    expect(classifyFailure({ status: 403, code: "ExpiredToken" })).toEqual({ transient: true, renewCredentials: true });
    expect(classifyFailure({ status: 403, code: "AccessDenied" })).toEqual({ transient: false });
  });

  test("resets, refusals and timeouts anywhere in the cause chain are transient", () => {
    const wrapped = (inner: object) => Object.assign(new TypeError("fetch failed"), { cause: inner });
    expect(classifyFailure({ cause: wrapped({ code: "ECONNRESET" }) })).toEqual({ transient: true });
    expect(classifyFailure({ cause: wrapped({ code: "ECONNREFUSED" }) })).toEqual({ transient: true });
    expect(classifyFailure({ cause: wrapped({ code: "UND_ERR_SOCKET" }) })).toEqual({ transient: true });
    expect(classifyFailure({ cause: new DOMException("timed out", "TimeoutError") })).toEqual({ transient: true });
  });

  test("TLS and certificate errors, and anything unrecognised, are final; TLS says what to fix", () => {
    const tls = classifyFailure({ cause: Object.assign(new Error("wrong version number"), { code: "ERR_SSL_WRONG_VERSION_NUMBER" }) });
    expect(tls).toMatchObject({ transient: false, networkCode: "ERR_SSL_WRONG_VERSION_NUMBER" });
    expect(tls.transient === false && tls.fix).toMatch(/plain http.*use http:\/\//);
    const cert = classifyFailure({ cause: Object.assign(new Error("self-signed"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }) });
    expect(cert.transient === false && cert.fix).toMatch(/certificate is not trusted.*NODE_EXTRA_CA_CERTS/);
    expect(classifyFailure({ cause: new Error("something odd") })).toEqual({ transient: false });
    expect(classifyFailure({ cause: Object.assign(new Error("no such host"), { code: "ENOTFOUND" }) })).toEqual({ transient: false });
  });

  test("withRetry: retries transient failures up to maxAttempts and hands the last one to giveUp", async () => {
    const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error("busy"), { status: 503 });
      },
      { policy, classify: (e) => classifyFailure({ status: (e as { status: number }).status }), giveUp: (e, info) => ({ e, info }) },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ info: { attempts: 3, failure: { transient: true } } });

    calls = 0;
    const final = await withRetry(
      async () => {
        calls++;
        throw new Error("bad request");
      },
      { policy, classify: () => classifyFailure({ status: 400 }), giveUp: (e, info) => ({ e, info }) },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(final).toMatchObject({ info: { attempts: undefined, failure: { transient: false } } });
  });
});

test("certainlyNotDone: only a refusal or a connection never made proves a call that must not run twice did nothing", () => {
  expect(certainlyNotDone({ status: 429 })).toBe(true);
  expect(certainlyNotDone({ status: 503 })).toBe(true);
  expect(certainlyNotDone({ status: 500 })).toBe(false);
  expect(certainlyNotDone({ status: 502 })).toBe(false);
  expect(certainlyNotDone({ cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) })).toBe(true);
  expect(certainlyNotDone({ cause: new Error("wrapped", { cause: Object.assign(new Error("dns"), { code: "EAI_AGAIN" }) }) })).toBe(true);
  // The request may have arrived before these.
  expect(certainlyNotDone({ cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) })).toBe(false);
  expect(certainlyNotDone({ cause: Object.assign(new Error("slow"), { code: "UND_ERR_HEADERS_TIMEOUT" }) })).toBe(false);
});
