/**
 * A throwaway workspace (scripts/workspace.js) for a YAML program on the
 * zillizcloud package: the YAML language host built from its Go module on
 * PATH, and the package recorded in Pulumi.yaml by hand (v1.25.0 has no
 * Link, so `pulumi package add` cannot finish there).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";

const { createWorkspace, REPO_ROOT } = require("../../scripts/workspace");

export async function yamlWorkspace(programDir: string): Promise<any> {
  const yamlBin = execFileSync(path.join(REPO_ROOT, "scripts", "pulumi-language-yaml"), { encoding: "utf8" }).trim();
  const ws = createWorkspace(programDir, { env: { PATH: `${yamlBin}:${process.env.PATH}` } });
  await fs.appendFile(path.join(ws.dir, "Pulumi.yaml"), `packages:\n  zillizcloud: ${path.join(REPO_ROOT, "plugin")}\n`);
  return ws;
}
