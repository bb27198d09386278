// An emulator that a test starts, and may stop and start again on the same
// data directory (a restart), for tests of what the emulator keeps across
// runs: each test gets a directory of its own, and whatever it left running
// is stopped after it.
import { StageClient } from "../../provider/client";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../provider/emulator";
import { mkTmp, rmTmp } from "./fs";

export interface EmulatorRuns {
  /** This test's data directory. */
  readonly dataDir: string;
  /** The emulator of this process, while one runs. */
  readonly emu: Emulator | undefined;
  /** Where requests go: the emulator of this process, or one the test started otherwise (connect). */
  readonly api: { url: string; apiKey: string };
  /** A client of `api`, while connected. */
  readonly client: StageClient | undefined;
  /** Starts an emulator on the data directory with the defaults and `options`, and connects to it. */
  start: (options?: EmulatorOptions) => Promise<Emulator>;
  /** Sends the test's requests, and the client's, to the service at `to`. */
  connect: (to: { url: string; apiKey: string }) => void;
  /** Closes the client and stops the emulator of this process, keeping the data directory. */
  stop: () => Promise<void>;
}

/** Registers the hooks (in the calling describe) and returns the runs' handle; `defaults` go to every start. */
export function emulatorRuns(defaults: EmulatorOptions): EmulatorRuns {
  let dataDir = "";
  let emu: Emulator | undefined;
  let api = { url: "", apiKey: "" };
  let client: StageClient | undefined;
  const runs: EmulatorRuns = {
    get dataDir() {
      return dataDir;
    },
    get emu() {
      return emu;
    },
    get api() {
      return api;
    },
    get client() {
      return client;
    },
    async start(options = {}) {
      emu = await startEmulator({ dataDir, ...defaults, ...options });
      runs.connect(emu);
      return emu;
    },
    connect(to) {
      api = { url: to.url, apiKey: to.apiKey };
      client = new StageClient({ endpoint: to.url, apiKey: to.apiKey });
    },
    async stop() {
      await client?.close();
      await emu?.stop();
      client = emu = undefined;
    },
  };
  beforeEach(async () => {
    dataDir = await mkTmp();
  });
  afterEach(async () => {
    await runs.stop();
    await rmTmp(dataDir);
  });
  return runs;
}
