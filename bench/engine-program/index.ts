// What a user writes for one directory of files: a stage and its files.
// Only counts are exported: a list of every path as a stack output would be
// a second copy of the tree in the state, and the benchmark measures what the
// resources themselves keep.
import * as pulumi from "@pulumi/pulumi";
import { Stage, StagedFiles } from "pulumi-zilliz-stages";

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

export const fileCount = files.fileCount;
export const totalBytes = files.totalBytes;
