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
