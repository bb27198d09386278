// Volume -> VolumeFiles -> ImportJob -> MergeJob: books imported into a
// collection, then merged with a second Parquet file into a new collection.
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, MergeJob, Volume, VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const volume = new Volume("volume", { projectId: "proj-e2e", regionId: "aws-us-west-2", volumeName: config.require("volumeName") });
// `source` is a local directory, or an s3:// folder with its endpoint (object-source.e2e.test.ts).
const files = new VolumeFiles("files", { volumeName: volume.volumeName, source: config.require("source"), sourceEndpoint: config.get("sourceEndpoint"), path: "incoming/" });
const pathOf = (name: string) => files.dataPaths.apply((batches) => batches.flat().find((p) => p.endsWith(name)) ?? `incoming/${name}`);
const load = new ImportJob("books", {
  clusterId: "in01-emulator",
  collectionName: "books",
  volumeName: files.volumeName,
  dataPaths: [[pathOf("books.parquet")]],
});
const merge = new MergeJob(
  "genres",
  {
    clusterId: "in01-emulator",
    collectionName: "books",
    destCollectionName: config.require("destCollectionName"),
    mergeField: "id",
    newFields: [
      { fieldName: "genre", dataType: "VARCHAR", maxLength: 32 },
      { fieldName: "rating", dataType: "DOUBLE" },
    ],
    volumeName: files.volumeName,
    dataPath: pathOf("genres.parquet"),
  },
  // The rows must be in the collection before the merge reads it.
  { dependsOn: [load] },
);

export const importedRows = load.importedRows;
export const mergeJobId = merge.jobId;
export const mergeStatus = merge.status;
export const mergeProgress = merge.progress;
export const destCollectionName = merge.destCollectionName;
