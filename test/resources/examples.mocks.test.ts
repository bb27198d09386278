// The examples' resource graphs and outputs, with the engine mocked. The
// mock computes a StagedFiles' outputs with the provider's own check (a real
// scan of the example's files) and outputsFor, without uploading; so the
// outputs asserted here are what the code computed, not what a mock wrote.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { capturingContext } from "../helpers/provider";
import { outputsFor, STAGED_FILES, CheckedStagedFiles } from "../../provider/resources/staged-files-state";
import { FilesDialect } from "../../provider/resources/staged-files-state";
import { stagedFilesProvider } from "../../provider/resources/staged-files-provider";
import { VOLUME_FILES } from "../../provider/resources/volume-files-provider";
import { hashListing, listSource } from "../../provider/upload";
import { unpackDataPaths } from "../../provider/resources/packed-data-paths";

const QUICKSTART_DATA = path.resolve(__dirname, "../../examples/quickstart/data");

/** The outputs a StagedFiles (or VolumeFiles) with these inputs would have after its first `up`: the provider's check, a real scan, its outputsFor. */
async function filesOutputs(dialect: FilesDialect, inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { failures, inputs: checked } = await stagedFilesProvider(capturingContext(), dialect).check!({}, inputs);
  if (failures?.length) throw new Error(JSON.stringify(failures));
  const news = checked as CheckedStagedFiles;
  const { manifest } = await hashListing(await listSource(news.source, news), {});
  // A first `up` adds every file: all of them are its changes.
  return { ...outputsFor(dialect, news, manifest, [], { changed: Object.keys(manifest) }) };
}

const DIALECTS: Record<string, FilesDialect> = { StagedFiles: STAGED_FILES, VolumeFiles: VOLUME_FILES };

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
      async newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const dialect = DIALECTS[args.type.split(":").pop()!];
        const state = dialect ? { ...args.inputs, ...(await filesOutputs(dialect, args.inputs)) } : { ...args.inputs };
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
    expect(await valueOf(program.importPaths)).toEqual([["data/rows-1.json"], ["data/rows-2.json"], ["data/vector.npy"]]);
    expect(await valueOf(program.fileCount)).toBe(3);

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

  test("volumes: one managed volume, its files into data/, imported into the emulator's collection", async () => {
    const registered = mock("zilliz-volumes-quickstart", {});
    const program = require("../../examples/volumes/index");
    expect(await valueOf(program.volumeName)).toBe("quickstart_volume");
    expect(await valueOf(program.importPaths)).toEqual([["data/part-1.json"], ["data/part-2.json"]]);
    expect(await valueOf(program.fileCount)).toBe(2);
    // Registration is asynchronous: the merge registers once the enrich files' paths are known.
    await Promise.all([valueOf(program.importJobId), valueOf(program.mergeJobId)]);
    const types = registered.map((r) => r.type).sort();
    expect(types).toEqual([
      "pulumi-nodejs:dynamic/zillizcloud:ImportJob",
      "pulumi-nodejs:dynamic/zillizcloud:MergeJob",
      "pulumi-nodejs:dynamic/zillizcloud:Volume",
      "pulumi-nodejs:dynamic/zillizcloud:VolumeFiles",
      "pulumi-nodejs:dynamic/zillizcloud:VolumeFiles",
    ]);
    const job = registered.find((r) => r.type.endsWith(":ImportJob"))!;
    expect(job.inputs).toMatchObject({ clusterId: "in01-emulator", collectionName: "quickstart", volumeName: "quickstart_volume" });
    // A files resource's dataPaths, passed as they are, travel packed: one string, not a list per file.
    expect(job.inputs.dataPaths).toBeUndefined();
    expect(unpackDataPaths(job.inputs.dataPathsPacked)).toEqual([["data/part-1.json"], ["data/part-2.json"]]);
    const volume = registered.find((r) => r.type.endsWith(":Volume"))!;
    expect(volume.inputs).toMatchObject({ projectId: "proj-quickstart", regionId: "aws-us-west-2", volumeName: "quickstart_volume" });
    const files = registered.find((r) => r.type.endsWith(":VolumeFiles") && r.name === "batch")!;
    expect(files.inputs).toMatchObject({ volumeName: "quickstart_volume", path: "data/" });
    const merge = registered.find((r) => r.type.endsWith(":MergeJob"))!;
    expect(merge.inputs).toMatchObject({ clusterId: "in01-emulator", collectionName: "quickstart", destCollectionName: "quickstart_genres", mergeField: "id", volumeName: "quickstart_volume", dataPath: "enrich/genres.parquet" });
  });

  test("ci: the stage is named after the branch, made safe for the service", async () => {
    const registered = mock("zilliz-stages-ci", {
      "zilliz-stages-ci:branch": "feature/Add vectors!",
      "zilliz-stages-ci:projectId": "proj-ci",
      "zilliz-stages-ci:source": QUICKSTART_DATA,
    });
    const program = require("../../examples/ci/index");
    expect(await valueOf(program.stage_name)).toBe("ci_feature_Add_vectors_");
    // The files land under the example's own path, batches/.
    expect(await valueOf(program.dataPaths)).toEqual([["batches/rows-1.json"], ["batches/rows-2.json"], ["batches/vector.npy"]]);
    const stage = registered.find((r) => r.type.endsWith(":Stage"))!;
    expect(stage.inputs).toMatchObject({ projectId: "proj-ci", regionId: "aws-us-west-2", stageName: "ci_feature_Add_vectors_" });
    const files = registered.find((r) => r.type.endsWith(":StagedFiles"))!;
    expect(files.inputs).toMatchObject({ path: "batches/", exclude: ["**/*.tmp"] });
  });

  test("import: one files resource and one job per batch folder; the growing folder imports only what changed", async () => {
    const registered = mock("zilliz-stages-import", {});
    const program = require("../../examples/import/index");
    // Registration is asynchronous: wait for every job's output first.
    await Promise.all([...program.batchJobs.map((b: { jobId: pulumi.Output<string> }) => valueOf(b.jobId)), valueOf(program.newRowsJob)]);
    const jobs = registered.filter((r) => r.type.endsWith(":ImportJob"));
    expect(jobs.map((r) => r.name).sort()).toEqual(["import-2026-01-05", "import-2026-01-12", "import-new"]);
    const batchJob = jobs.find((r) => r.name === "import-2026-01-12")!;
    expect(batchJob.inputs).toMatchObject({ clusterId: "in01-emulator", collectionName: "quickstart", volumeName: "import_example" });
    expect(unpackDataPaths(batchJob.inputs.dataPathsPacked)).toEqual([["batches/2026-01-12/books.json"]]);
    // A first up: every incoming file is new, and the job imports them with the manifest as its trigger.
    expect(await valueOf(program.newFiles)).toEqual([["incoming/part-0001.json"], ["incoming/part-0002.json"]]);
    const newJob = jobs.find((r) => r.name === "import-new")!;
    expect(newJob.inputs).toMatchObject({ allowEmpty: true, trigger: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(unpackDataPaths(newJob.inputs.dataPathsPacked)).toEqual([["incoming/part-0001.json"], ["incoming/part-0002.json"]]);
  });
});
