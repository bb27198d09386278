import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A fresh directory under the OS temp dir; remove it with `rmTmp`. */
export function mkTmp(prefix = "zstages-"): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export function rmTmp(dir: string): Promise<void> {
  return fs.rm(dir, { recursive: true, force: true });
}

/** Writes `files` (POSIX relative path -> content) under `root`. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, ...rel.split("/"));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}
