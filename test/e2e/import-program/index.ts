// Volume -> VolumeFiles -> ImportJob of what the last up added or changed.
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, Volume, VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const volume = new Volume("volume", { projectId: "proj-e2e", regionId: "aws-us-west-2", volumeName: config.require("volumeName") });
const files = new VolumeFiles("files", { volumeName: volume.volumeName, source: config.require("source"), path: "incoming/" });
const job = new ImportJob("new-rows", {
  clusterId: "in01-emulator",
  collectionName: "quickstart",
  volumeName: files.volumeName,
  // `listed`: the paths as a plain list (as versions before packed paths sent
  // them), not the files resource's own Output, which travels packed.
  dataPaths: config.getBoolean("listed") ? files.changedDataPaths.apply((p) => p) : files.changedDataPaths,
  trigger: files.manifestHash,
  allowEmpty: true,
  timeoutSeconds: config.getNumber("timeoutSeconds"),
});

export const changedDataPaths = files.changedDataPaths;
export const jobId = job.jobId;
export const state = job.state;
export const importedRows = job.importedRows;
export const totalRows = job.totalRows;
