// A managed volume, its files, their rows imported into a collection, and
// that collection merged with a Parquet file of extra fields into a new one.
// Point it at Zilliz Cloud (or at the local emulator) with two config values:
//   pulumi config set zillizcloud:endpoint http://127.0.0.1:19530
//   pulumi config set --secret zillizcloud:apiKey <key>
// and, for Zilliz Cloud, the collection to import into (it must exist):
//   pulumi config set clusterId in01-...; pulumi config set collectionName books
// A volume made outside Pulumi can be taken over with `adopt: true`.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, MergeJob, Volume, VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();

const volume = new Volume("raw", {
  projectId: config.get("projectId") || "proj-quickstart",
  regionId: config.get("regionId") || "aws-us-west-2",
  volumeName: config.get("volumeName") || "quickstart_volume",
});

// Relative to the working directory, so the program runs from this folder
// and from the repository root.
const data = path.relative(process.cwd(), path.join(__dirname, "data")) || ".";

const batch = new VolumeFiles("batch", {
  volumeName: volume.volumeName,
  source: data,
  path: "data/",
});

// The files' rows into a collection: one job, waited for, its progress shown.
// The emulator knows one collection, in01-emulator/quickstart.
const clusterId = config.get("clusterId") || "in01-emulator";
const collectionName = config.get("collectionName") || "quickstart";
const load = new ImportJob("load", {
  clusterId,
  collectionName,
  volumeName: batch.volumeName,
  dataPaths: batch.dataPaths,
});

// Extra fields for some of those rows, in a Parquet file of their own folder
// (so the import above does not take it for rows).
const enrich = new VolumeFiles("enrich", {
  volumeName: volume.volumeName,
  source: path.relative(process.cwd(), path.join(__dirname, "enrich")) || ".",
  path: "enrich/",
});

// A new collection: every row of the first, plus genre and rating where the
// Parquet file has the row's id (null elsewhere). Delete leaves it in place.
const merge = new MergeJob(
  "genres",
  {
    clusterId,
    collectionName,
    destCollectionName: config.get("destCollectionName") || "quickstart_genres",
    mergeField: "id",
    newFields: [
      { fieldName: "genre", dataType: "VARCHAR", maxLength: 64 },
      { fieldName: "rating", dataType: "DOUBLE" },
    ],
    volumeName: enrich.volumeName,
    dataPath: enrich.dataPaths.apply((batches) => batches[0][0]),
  },
  // The merge reads the collection: the rows must be in first.
  { dependsOn: [load] },
);

export const volumeName = batch.volumeName;
export const createTime = volume.createTime;
export const fileCount = batch.fileCount;
export const totalBytes = batch.totalBytes;
/** What an import job takes: `{ volumeName, projectId, regionId, dataPaths }`. */
export const importPaths = batch.dataPaths;
export const importJobId = load.jobId;
export const importedRows = load.importedRows;
export const mergeJobId = merge.jobId;
export const mergedCollection = merge.destCollectionName;
