/**
 * The upload engine's test bench: before each test an emulator holding
 * stage "up" of project "p", a client for it, an empty source directory and
 * an empty list for the engine's notices; after each, all of it gone. The
 * recovery, refusal and edge suites drive executeUpload against it.
 */
import { StageClient } from "../../provider/client";
import { Emulator, startEmulator } from "../../provider/emulator";
import { ExecuteOptions, executeUpload, Manifest, planChanges, scanSource } from "../../provider/upload";
import { mkTmp, rmTmp } from "./fs";

export interface UploadStage {
  emu: Emulator;
  client: StageClient;
  /** The source directory, empty at the start of each test. */
  dir: string;
  notices: string[];
}

/** Registers the hooks; `bind` receives each test's fresh bench. */
export function withUploadStage(bind: (stage: UploadStage) => void): void {
  let current: UploadStage | undefined;
  beforeEach(async () => {
    const emu = await startEmulator();
    const client = new StageClient({ endpoint: emu.url, apiKey: emu.apiKey });
    await client.createStage({ projectId: "p", regionId: "r", stageName: "up" });
    current = { emu, client, dir: await mkTmp(), notices: [] };
    bind(current);
  });
  afterEach(async () => {
    if (!current) return;
    await current.client.close();
    await current.emu.stop();
    await rmTmp(current.dir);
    current = undefined;
  });
}

/**
 * Scans the bench's directory, plans against `known` (what the state
 * records) and executes into `data/` of stage "up"; `only` narrows the
 * uploads, as an interrupted run sent only some of them.
 */
export async function scanPlanExecute(stage: UploadStage, known: Manifest | undefined, opts: Partial<ExecuteOptions> = {}, only?: (rel: string) => boolean) {
  const scan = await scanSource(stage.dir);
  const plan = planChanges(known, scan.manifest);
  const outcome = await executeUpload(
    { stageName: "up", path: "data/", root: scan.root, manifest: scan.manifest, upload: plan.upload.filter(only ?? (() => true)), delete: plan.delete, known },
    { targets: stage.client, onNotice: (line) => stage.notices.push(line), ...opts },
  );
  return { manifest: scan.manifest, outcome };
}
