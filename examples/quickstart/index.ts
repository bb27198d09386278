// A stage and its files. Point it at Zilliz Cloud (or at the local emulator)
// with two config values:
//   pulumi config set zillizcloud:endpoint http://127.0.0.1:19530
//   pulumi config set --secret zillizcloud:apiKey <key>
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const stage = new Stage("raw", {
  projectId: config.get("projectId") || "proj-quickstart",
  regionId: config.get("regionId") || "aws-us-west-2",
  stageName: config.get("stageName") || "quickstart_raw",
});

// Relative to the working directory, so the same program runs from this
// folder and from the repository root (the root Pulumi.yaml points here).
const data = path.relative(process.cwd(), path.join(__dirname, "data")) || ".";

const batch = new StagedFiles("batch", {
  stageName: stage.stageName,
  source: data,
  path: "data/",
});

export const stageName = stage.stageName;
export const fileCount = batch.fileCount;
export const totalBytes = batch.totalBytes;
/** What an import job takes: `{ stageName, dataPaths }`. */
export const importPaths = batch.dataPaths;
