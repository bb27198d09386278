// Stage -> StagedFiles -> ImportJob of what the last up added or changed.
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, Stage, StagedFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const stage = new Stage("stage", { projectId: "proj-e2e", regionId: "aws-us-west-2", stageName: config.require("stageName") });
const files = new StagedFiles("files", { stageName: stage.stageName, source: config.require("source"), path: "incoming/" });
const job = new ImportJob("new-rows", {
  clusterId: "in01-emulator",
  collectionName: "quickstart",
  stageName: stage.stageName,
  dataPaths: files.changedDataPaths,
  trigger: files.manifestHash,
  allowEmpty: true,
  timeoutSeconds: config.getNumber("timeoutSeconds"),
});

export const changedDataPaths = files.changedDataPaths;
export const jobId = job.jobId;
export const state = job.state;
export const importedRows = job.importedRows;
export const totalRows = job.totalRows;
