import { spawn } from "node:child_process";
import * as path from "node:path";

/** The built package (npm test builds it first), for children that are not under ts-jest. */
export const DIST = path.resolve(__dirname, "../../dist/provider");

/** Is this process root, for whom file permissions do not apply? */
export const isRoot = process.getuid?.() === 0;

/**
 * Runs a script in a node child process as an unprivileged user (nobody)
 * when the tests run as root, so that file permissions mean what they mean
 * for a user; as the current user otherwise. The script's last stdout line
 * must be JSON; it is parsed and returned.
 */
export function runUnprivileged(script: string, env: Record<string, string> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script], {
      env: { PATH: process.env.PATH ?? "", HOME: "/tmp", DIST, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`child exited ${code} without a JSON line\n--- stdout\n${out}\n--- stderr\n${err}`));
      }
    });
  });
}
