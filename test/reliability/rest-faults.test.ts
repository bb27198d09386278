// Every REST call against every fault the service can throw at it: retried
// within bounds and then a clear error. The faults are real (the emulator
// answers 5xx/429, resets the socket or never answers); only the delays are
// shortened so the suite stays quick.
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import type { FaultSpec } from "../../provider/emulator/faults";
import { ZillizApiError, ZillizStageError, ZillizTransportError } from "../../provider/errors";

type Call = "create" | "list" | "delete" | "apply";
const CALLS: Call[] = ["create", "list", "delete", "apply"];

const FAULTS: Record<string, Omit<FaultSpec, "target" | "count">> = {
  "500": { status: 500 },
  "503": { status: 503 },
  "429 with Retry-After": { status: 429, retryAfterSeconds: 1 },
  "429 without Retry-After": { status: 429 },
  "a reset connection": { mode: "reset" },
  "a timeout": { mode: "stall" },
};

const MAX_ATTEMPTS = 3;
// Long enough that a loaded CI machine (both cores busy with other suites) still answers a healthy call in time.
const TIMEOUT_MS = 1_000;

describe("REST faults", () => {
  let emu: Emulator;
  let client: StageClient;
  let n = 0;

  beforeAll(async () => {
    emu = await startEmulator();
    client = new StageClient({
      endpoint: emu.url,
      apiKey: emu.apiKey,
      timeoutMs: TIMEOUT_MS,
      // A short base delay keeps the suite fast; the cap stays above the
      // Retry-After under test so that the header, not the backoff, decides.
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 20, maxDelayMs: 2_000 },
    });
  });
  afterAll(async () => {
    await client.close();
    await emu.stop();
  });
  afterEach(() => emu.faults.clear());

  /** Makes what the call needs (a stage to delete or apply on) and returns the call itself. */
  async function prepare(call: Call): Promise<() => Promise<unknown>> {
    const stageName = `s${++n}`;
    if (call !== "create") await client.createStage({ projectId: "p", regionId: "r", stageName });
    emu.clearRequests();
    switch (call) {
      case "create":
        return () => client.createStage({ projectId: "p", regionId: "r", stageName });
      case "list":
        return () => client.listStages({ projectId: "p" });
      case "delete":
        return () => client.deleteStage(stageName);
      case "apply":
        return () => client.applyUploadTarget({ stageName, path: "" });
    }
  }
  const attempts = (call: Call) => emu.requests().filter((r) => r.kind === call).length;

  describe.each(CALLS)("%s", (call) => {
    test.each(Object.keys(FAULTS))("recovers from %s twice in a row", async (name) => {
      const run = await prepare(call);
      emu.faults.add({ target: call, count: MAX_ATTEMPTS - 1, ...FAULTS[name] });
      const started = Date.now();
      await expect(run()).resolves.toBeDefined();
      expect(attempts(call)).toBe(MAX_ATTEMPTS);
      expect(emu.faults.pending()).toBe(0);
      // Retry-After: 1 twice is two seconds of waiting, not the 20 ms backoff.
      if (FAULTS[name].retryAfterSeconds) expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    });

    test.each(Object.keys(FAULTS))("gives up on %s after the last attempt with an error that says what to do", async (name) => {
      const run = await prepare(call);
      emu.faults.add({ target: call, count: 100, ...FAULTS[name], retryAfterSeconds: 0 });
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ZillizStageError);
      const fault = FAULTS[name];
      if (fault.status) {
        expect(err).toBeInstanceOf(ZillizApiError);
        expect(err).toMatchObject({ status: fault.status, call });
      } else {
        expect(err).toBeInstanceOf(ZillizTransportError);
        expect((err as Error).message).toMatch(fault.mode === "stall" ? new RegExp(`within ${TIMEOUT_MS} ms`) : /could not reach/);
      }
      const message = (err as Error).message;
      expect(message).toContain(`gave up after ${MAX_ATTEMPTS} attempts`);
      // Something the user can act on, and never the key.
      expect(message).toMatch(/try again|retry|check|later|raise/i);
      expect(message).not.toContain(emu.apiKey);
      expect(attempts(call)).toBe(MAX_ATTEMPTS);
    });
  });

  test("a 400 is not retried", async () => {
    const run = await prepare("apply");
    emu.faults.add({ target: "apply", count: 1, status: 400 });
    await expect(run()).rejects.toBeInstanceOf(ZillizApiError);
    expect(attempts("apply")).toBe(1);
  });
});
