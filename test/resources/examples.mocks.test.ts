// The examples' resource graphs and outputs, with the engine mocked: no
// provider runs here (see the lifecycle and serialized-provider tests for that).
import * as pulumi from "@pulumi/pulumi";
import { encodeManifest } from "../../provider/upload";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

function mock(project: string, config: Record<string, string>): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setAllConfig(config, []);
  void pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = { ...args.inputs };
        if (args.type.endsWith(":StagedFiles")) {
          // The provider's outputs for one file; the resource derives `dataPaths` from them.
          state.manifest = encodeManifest({ "rows-1.json": { size: 2, sha256: "0".repeat(64), mtimeMs: 0 } });
          state.fileCount = 1;
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    project,
    "dev",
    false,
  );
  return registered;
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

describe("examples under mocks", () => {
  beforeEach(() => jest.resetModules());

  test("quickstart: one stage, its files into data/, import paths exported", async () => {
    const registered = mock("zilliz-stages-quickstart", {});
    const program = require("../../examples/quickstart/index");
    expect(await valueOf(program.stageName)).toBe("quickstart_raw");
    expect(await valueOf(program.importPaths)).toEqual([["data/rows-1.json"]]);

    const types = registered.map((r) => r.type).sort();
    expect(types).toEqual(["pulumi-nodejs:dynamic/zillizcloud:Stage", "pulumi-nodejs:dynamic/zillizcloud:StagedFiles"]);
    const files = registered.find((r) => r.type.endsWith(":StagedFiles"))!;
    expect(files.inputs.stageName).toBe("quickstart_raw");
    expect(files.inputs.path).toBe("data/");
    expect(files.inputs.source).toMatch(/examples\/quickstart\/data$|^data$/);
    // The provider travels as code in the inputs; no credential may ride along.
    expect(typeof files.inputs.__provider).toBe("string");
    expect(files.inputs.__provider as string).not.toMatch(/apiKey\s*[:=]\s*["'][^"']/);
  });

  test("ci: the stage is named after the branch, made safe for the service", async () => {
    const registered = mock("zilliz-stages-ci", {
      "zilliz-stages-ci:branch": "feature/Add vectors!",
      "zilliz-stages-ci:projectId": "proj-ci",
    });
    const program = require("../../examples/ci/index");
    expect(await valueOf(program.stage_name)).toBe("ci_feature_Add_vectors_");
    expect(await valueOf(program.dataPaths)).toEqual([["batches/rows-1.json"]]);
    const stage = registered.find((r) => r.type.endsWith(":Stage"))!;
    expect(stage.inputs).toMatchObject({ projectId: "proj-ci", regionId: "aws-us-west-2", stageName: "ci_feature_Add_vectors_" });
    const files = registered.find((r) => r.type.endsWith(":StagedFiles"))!;
    expect(files.inputs).toMatchObject({ path: "batches/", exclude: ["**/*.tmp"] });
  });
});
