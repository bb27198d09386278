import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";

/** The built emulator CLI. */
export const EMULATOR_CLI = path.join(__dirname, "../../dist/provider/emulator/cli.js");

/** Starts the CLI with `args` and resolves with its URL once it says where it listens. */
export function startEmulatorCli(args: string[]): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [EMULATOR_CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) resolve({ url: m[1], child, exited });
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}`)));
  });
}
