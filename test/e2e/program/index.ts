import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();
const importId = config.get("importStage");

const stage = new Stage(
  "stage",
  {
    projectId: config.get("projectId") || "proj-e2e",
    regionId: "aws-us-west-2",
    stageName: config.require("stageName"),
  },
  importId ? { import: importId } : undefined,
);

let files: StagedFiles | undefined;
if (config.get("source")) {
  files = new StagedFiles("files", {
    stageName: stage.stageName,
    source: config.require("source"),
    path: config.get("path") || "data/",
  });
}

export const stageName = stage.stageName;
export const fileCount = files ? files.fileCount : 0;
export const dataPaths = files ? files.dataPaths : [];
