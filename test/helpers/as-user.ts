import { spawn } from "node:child_process";
import * as path from "node:path";
import { collect } from "./child";

/** The built package (npm test builds it first), for children that are not under ts-jest. */
export const DIST = path.resolve(__dirname, "../../dist/provider");

/** Is this process root, for whom file permissions do not apply? */
export const isRoot = process.getuid?.() === 0;

/**
 * Runs a script in a node child process in which file permissions apply.
 * As root, the child keeps uid 0 (so it can still read this checkout,
 * wherever it lives) but loses the capabilities that let root ignore
 * permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), through util-linux's
 * setpriv; as anyone else it runs as is. The script's last stdout line must
 * be JSON; it is parsed and returned.
 */
export async function runUnprivileged(script: string, env: Record<string, string> = {}): Promise<any> {
  const argv = [process.execPath, "-e", script];
  const [cmd, ...args] = isRoot ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ...argv] : argv;
  const child = spawn(cmd, args, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DIST, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { code, stdout, stderr } = await collect(child);
  const last = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`child exited ${code} without a JSON line\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
  }
}
