// The zillizcloud package from a Pulumi YAML program under the real CLI:
// the native plugin (plugin/pulumi-resource-zillizcloud on dist/; build
// first) and the YAML language host built from its Go module
// (scripts/pulumi-language-yaml). The lifecycle is package-lifecycle.ts's.
import * as path from "node:path";
import { yamlWorkspace } from "../helpers/yaml-workspace";
import { describePackageLifecycle } from "./package-lifecycle";

jest.setTimeout(15 * 60_000);

describePackageLifecycle({ language: "YAML", workspace: () => yamlWorkspace(path.join(__dirname, "yaml")) });
