import * as pulumi from "@pulumi/pulumi";
import { Volume, VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const volume = new Volume("volume", {
  projectId: "proj-e2e",
  regionId: config.get("regionId") || "aws-us-west-2",
  volumeName: config.require("volumeName"),
  adopt: config.getBoolean("adopt"),
  description: config.get("description"),
});

const files = new VolumeFiles("files", {
  volumeName: volume.volumeName,
  source: config.require("source"),
  path: "data/",
});

export const volumeName = files.volumeName;
export const volumeType = volume.type;
export const createTime = volume.createTime;
export const description = volume.description;
export const fileCount = files.fileCount;
export const dataPaths = files.dataPaths;
