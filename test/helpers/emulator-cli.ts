import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { waitForLine } from "./child";

/** The built emulator CLI. */
export const EMULATOR_CLI = path.join(__dirname, "../../dist/provider/emulator/cli.js");

/** Starts the CLI with `args` and resolves with its URL once it says where it listens. */
export async function startEmulatorCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [EMULATOR_CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  const [, url] = await waitForLine(child, /^listening on (https?:\/\/127\.0\.0\.1:\d+)$/m);
  return { url, child, exited };
}
