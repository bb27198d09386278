/**
 * A throwaway workspace for a YAML program on the zillizcloud package
 * (scripts/workspace.js's createYamlWorkspace, which `npm run demo -- --yaml`
 * uses too).
 */
const { createYamlWorkspace } = require("../../scripts/workspace");

export async function yamlWorkspace(programDir: string, options?: { stack?: string; env?: Record<string, string> }): Promise<any> {
  return createYamlWorkspace(programDir, options);
}
