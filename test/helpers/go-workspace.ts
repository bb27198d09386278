/**
 * A throwaway workspace (scripts/workspace.js) for a Go program on the
 * zillizcloud package: the package's Go SDK generated into the workspace
 * (scripts/gen-sdks) with the program's go.mod `replace`d onto it, and the
 * plugin recorded in Pulumi.yaml's `packages:`. scripts/pulumi puts its own
 * Go language host on PATH (scripts/pulumi-tools/cmd/pulumi-language-go).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";

const { createWorkspace, REPO_ROOT } = require("../../scripts/workspace");

/** The module path the generator gives the Go SDK (plugin/schema.json's importBasePath, less its package). */
export const GO_SDK_MODULE = "github.com/pulumi-zilliz-stages/sdk/go";

export async function goWorkspace(programDir: string): Promise<any> {
  const ws = createWorkspace(programDir);
  const sdk = path.join(ws.root, "sdk");
  // Its progress lines stay out of a passing run; a failure carries them.
  execFileSync(path.join(REPO_ROOT, "scripts", "gen-sdks"), [sdk], { stdio: ["ignore", "ignore", "pipe"] });
  execFileSync("go", ["mod", "edit", `-replace=${GO_SDK_MODULE}=${path.join(sdk, "go")}`], { cwd: ws.dir, env: goEnv() });
  await fs.appendFile(path.join(ws.dir, "Pulumi.yaml"), `packages:\n  zillizcloud: ${path.join(REPO_ROOT, "plugin")}\n`);
  return ws;
}

/** The environment with Go on PATH where scripts/pulumi would find it. */
function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` };
}
