// What a user writes for one directory of files, as the README teaches it:
// a stage, its files, and an import job over `files.dataPaths` (the list of
// every file, which the job takes), exporting what the job imported. See
// bench/README.md for what the benchmark measures.
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const stage = new Stage("stage", {
  projectId: "proj-bench",
  regionId: "aws-us-west-2",
  stageName: config.require("stageName"),
});

const files = new StagedFiles("files", {
  stageName: stage.stageName,
  source: config.require("source"),
  path: "data/",
});

// `bench:engine-large` sends files that are not rows: it sets `import` to false.
const load =
  config.getBoolean("import") === false
    ? undefined
    : new ImportJob("load", {
        clusterId: "in01-emulator",
        collectionName: "quickstart",
        stageName: files.stageName,
        dataPaths: files.dataPaths,
      });

export const fileCount = files.fileCount;
export const totalBytes = files.totalBytes;
export const importedRows = load?.importedRows;
