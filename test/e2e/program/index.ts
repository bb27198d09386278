import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();
const importId = config.get("importStage");
// A per-resource connection, when the stack sets one (the key as a secret).
const connectionEndpoint = config.get("connectionEndpoint");
const connection = connectionEndpoint ? { endpoint: connectionEndpoint, apiKey: config.requireSecret("connectionApiKey") } : undefined;

const stage = new Stage(
  "stage",
  {
    projectId: config.get("projectId") || "proj-e2e",
    regionId: "aws-us-west-2",
    stageName: config.require("stageName"),
    adopt: config.getBoolean("adoptStage"),
    connection,
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
