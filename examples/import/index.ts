// Files in a volume imported into a collection, in the two ways that never import
// a row twice (an import cannot be undone: delete removes no rows).
//
//   pulumi config set zillizcloud:endpoint http://127.0.0.1:19530   # or Zilliz Cloud
//   pulumi config set --secret zillizcloud:apiKey <key>
//   pulumi config set clusterId in01-...                            # the emulator's default: in01-emulator
//   pulumi config set collectionName books                          # must exist; the emulator's default: quickstart
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImportJob, Volume, VolumeFiles } from "pulumi-zilliz-stages";

const config = new pulumi.Config();
const clusterId = config.get("clusterId") || "in01-emulator";
const collectionName = config.get("collectionName") || "quickstart";

const volume = new Volume("raw", {
  projectId: config.get("projectId") || "proj-import",
  regionId: config.get("regionId") || "aws-us-west-2",
  volumeName: config.get("volumeName") || "import_example",
});

// Relative to the working directory, so the program runs from any folder.
const here = (p: string) => path.relative(process.cwd(), path.join(__dirname, p)) || ".";

// 1. One path per batch. Every folder of ./batches is a batch that never
// changes once written: it gets its own files resource and its own job.
// A new folder adds a pair; the jobs of older batches stay as they are, so
// their rows are never imported again.
const batches = fs.readdirSync(path.join(__dirname, "batches")).sort();
export const batchJobs = batches.map((batch) => {
  const files = new VolumeFiles(`batch-${batch}`, { volumeName: volume.volumeName, source: here(`batches/${batch}`), path: `batches/${batch}/` });
  const job = new ImportJob(`import-${batch}`, { clusterId, collectionName, volumeName: files.volumeName, dataPaths: files.dataPaths });
  return { batch, jobId: job.jobId, importedRows: job.importedRows };
});

// 2. Only what is new. ./incoming is one directory that grows; the job
// imports the files the last `up` added or changed (changedDataPaths), and
// a new job starts whenever those change. `trigger` makes a file changed
// twice under the same name count as new both times; `allowEmpty` lets an
// `up` that added nothing (e.g. only removed files) start no job. A changed
// file's rows are imported again; the old rows stay: append, don't rewrite.
const incoming = new VolumeFiles("incoming", { volumeName: volume.volumeName, source: here("incoming"), path: "incoming/" });
const newRows = new ImportJob("import-new", {
  clusterId,
  collectionName,
  volumeName: incoming.volumeName,
  dataPaths: incoming.changedDataPaths,
  trigger: incoming.manifestHash,
  allowEmpty: true,
});

export const newFiles = incoming.changedDataPaths;
export const newRowsImported = newRows.importedRows;
export const newRowsJob = newRows.jobId;
