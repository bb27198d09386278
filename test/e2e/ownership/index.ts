// One VolumeFiles on a volume the test creates outside Pulumi, so that two
// stacks can point at the same volume and neither owns the volume itself.
// Its resource name comes from config: renaming it (with no alias) is one
// `config set`.
import * as pulumi from "@pulumi/pulumi";
import { VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();
const takeOver = config.getBoolean("takeOver");

const files = new VolumeFiles(config.get("filesName") || "files", {
  volumeName: config.require("volumeName"),
  source: config.require("source"),
  path: config.get("path") || "data/",
  // Only when the stack sets it: a version without the input must still run this program for the other steps.
  ...(takeOver === undefined ? {} : { takeOver }),
});

export const fileCount = files.fileCount;
export const dataPaths = files.dataPaths;
