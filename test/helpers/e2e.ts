// What an end-to-end suite under the Pulumi CLI sets up, ended in one place.
import { rmTmp } from "./fs";

/**
 * Ends whichever parts a suite got to set up (a failed beforeAll leaves some
 * undefined): the workspace and its stack, the test's client, the emulator,
 * the program's data directory.
 */
export async function endSuite(parts: { ws?: { cleanup(): void }; client?: { close(): Promise<void> }; emu?: { stop(): Promise<void> }; data?: string }): Promise<void> {
  parts.ws?.cleanup();
  await parts.client?.close();
  await parts.emu?.stop();
  if (parts.data) await rmTmp(parts.data);
}
