import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";

/** An emulator on 127.0.0.1 that already holds one stage, as most provider tests start. */
export async function emulatorWithStage(
  stage: { projectId: string; stageName: string; regionId?: string },
  options?: Parameters<typeof startEmulator>[0],
): Promise<Emulator> {
  const emu = await startEmulator(options);
  const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
  try {
    await client.createStage({ regionId: "aws-us-west-2", ...stage });
  } finally {
    await client.close();
  }
  return emu;
}

/**
 * What the emulator's store holds under `prefix`, as path below it -> bytes
 * as text (read from the store, not through the provider under test). A map
 * with no prototype, so that files named `__proto__` or `constructor` are
 * entries like any other.
 */
export async function objectsUnder(emu: Emulator, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.create(null);
  for (const obj of emu.listObjects(prefix)) out[obj.key.slice(prefix.length)] = (await emu.readObject(obj.key)).toString();
  return out;
}
