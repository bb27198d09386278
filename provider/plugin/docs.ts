/**
 * The words the package schema carries into every generated SDK: each
 * resource's and function's description, each property's. The input docs
 * are the README's and the TypeScript classes' own; the schema test refuses
 * a zod field without one here.
 */
import { MERGE_DATA_TYPES } from "../client/merge-schemas";
import type { ResourceType } from "./tokens";

/** Properties with the same meaning everywhere. */
export const COMMON_DOCS: Readonly<Record<string, string>> = {
  projectId: "The Zilliz Cloud project (e.g. `proj-xxxxxxxx`).",
  regionId: "The cloud region (e.g. `aws-us-west-2`).",
  adopt:
    "Take over an existing one of that name when its settings match, instead of failing because the name is taken (`pulumi import` does the same from the command line).",
  connection:
    "Overrides the provider's endpoint and API key for this resource (for programs that talk to two accounts). Kept in the state as a secret.",
  source:
    "A file or a directory, relative to the Pulumi project directory or absolute; or a folder in an object store, `s3://bucket/prefix/` (AWS S3 or any S3-compatible store) or `gs://bucket/prefix/` (Google Cloud Storage), copied without a local copy.",
  sourceEndpoint: "For an `s3://` source in a store other than AWS: its endpoint (e.g. `https://minio.example.com:9000`). For `gs://`, default `https://storage.googleapis.com`.",
  sourcePathStyle: "For an `s3://` source: the bucket in the URL path rather than the host name (default: true with `sourceEndpoint`, false for AWS).",
  sourceRegion: "For an `s3://` source: the bucket's region for signing (default `AWS_REGION`, `AWS_DEFAULT_REGION`, then `us-east-1`).",
  include: "Globs (relative POSIX paths, e.g. `**/*.parquet`) of files to upload; default everything.",
  exclude: "Globs of files to leave out; wins over `include`.",
  deleteRemoved: "Remove files from the stage or volume when they disappear locally (default true).",
  concurrency: "Requests in flight during an upload (default 16, at most 256).",
  forceRehash: "Hash every file again instead of trusting size and modification time (default false).",
  followSymlinks: "`inside` (default): symlinks must stay inside `source`; `any`: follow them anywhere.",
  allowEmpty:
    "Accept a source that yields no file (default false). Without it such a source is refused at preview, since `up` would remove every file under `path`.",
  takeOver:
    "Overwrite objects at this path that another resource wrote with different content, instead of refusing the run (default false). Objects with the same content are taken over without it (a rename or a replacement).",
  ownerUrn:
    "The URN written with every object as its owner's name, for messages; set by the provider from the resource's own URN. Leave it out.",
  manifest: "What the resource keeps in the stage or volume: each file's size, SHA-256 and modification time, encoded (about 45 bytes a file).",
  retained: "Files removed locally but kept remotely because `deleteRemoved` is false; destroy removes them.",
  fileCount: "How many files the resource keeps.",
  totalBytes: "Their total size in bytes.",
  manifestHash: "One SHA-256 over the whole manifest: it changes exactly when the stored content does.",
  changed: "Which files the last create or update added or changed, as index ranges over the sorted files (see `changedDataPaths`).",
  changesUnfinished: "Set when the last create or update failed part-way: the next one adds its changes to these.",
  files: "Object paths inside the stage or volume, e.g. `data/1.parquet`.",
  dataPaths: 'What an import job takes: one batch per file, e.g. `[["data/1.parquet"], ...]`.',
  changedDataPaths:
    "The files the last create or update added or changed, in the shape of `dataPaths`; empty when none. For an ImportJob that imports only what is new (with `allowEmpty: true`).",
};

/** Properties whose meaning depends on the resource. */
export const RESOURCE_DOCS: Readonly<Record<ResourceType, { description: string; properties: Readonly<Record<string, string>> }>> = {
  Volume: {
    description:
      "A Zilliz Cloud volume: a MANAGED one holds files you upload (with VolumeFiles) for import into a collection; an EXTERNAL one points at a path in your own S3 or GCS bucket through a storage integration. Only `description` can be edited in place: changing any other input but `connection` and `adopt` replaces it. Import an existing one with `pulumi import zillizcloud:index:Volume <name> <projectId>/<volumeName>`.",
    properties: {
      volumeName: "The volume's name: letters, digits, `_` and `-`, at most 64 characters. It is also the resource id.",
      type: "`MANAGED` (default): Zilliz Cloud hosts the files, uploaded with VolumeFiles. `EXTERNAL`: a path in your own bucket.",
      storageIntegrationId: "EXTERNAL only, required there: the storage integration that reaches your bucket.",
      path: 'EXTERNAL only: the directory of your bucket, ending in "/".',
      description: "Free text, at most 255 characters; changed in place (an update, not a replacement).",
      status: "As the service reports it.",
      createTime: "When the volume was created (ISO-8601), as the service reports it.",
    },
  },
  Stage: {
    description:
      "A Zilliz Cloud stage: a place to upload files for import. Changing `projectId`, `regionId` or `stageName` replaces it. Import an existing one with `pulumi import zillizcloud:index:Stage <name> <projectId>/<regionId>/<stageName>`.",
    properties: {
      stageName: "The stage's name: letters, digits, `_` and `-`, at most 64 characters.",
    },
  },
  VolumeFiles: {
    description:
      "The files of a local directory (or one file) kept in a MANAGED volume: `up` uploads exactly the files whose content changed (SHA-256) and removes what was deleted locally; `destroy` removes exactly the objects this resource put there. `dataPaths` is what an ImportJob takes.",
    properties: {
      volumeName: "The MANAGED volume to upload into (usually a Volume's `volumeName`). An EXTERNAL volume is refused: its files live in your bucket.",
      path: 'Target directory inside the volume: "" (the root, default) or a path such as `data/`.',
    },
  },
  StagedFiles: {
    description:
      "The files of a local directory (or one file) kept in a stage: `up` uploads exactly the files whose content changed (SHA-256) and removes what was deleted locally; `destroy` removes exactly the objects this resource put there.",
    properties: {
      stageName: "The stage to upload into (usually a Stage's `stageName`).",
      path: 'Target directory inside the stage: "" (the root, default) or a path such as `data/`.',
    },
  },
  ImportJob: {
    description:
      "One import of files from a volume or stage, or of objects in your own bucket (`objectUrls` with `accessKey` and `secretKey`), into a collection. Create starts the job and waits for it; a job that fails or outlives the timeout is recorded anyway, so the next `up` follows that job rather than importing the rows twice. Changing what is imported (the target, the source, `dataPaths`, `objectUrls`, `trigger`) starts a new job, a change of only the keys does not; destroy cannot un-import rows.",
    properties: {
      clusterId: "The cluster that holds the collection (e.g. `in01-0123456789abcdef`); or give `projectId` and `regionId` for a project database.",
      projectId: "With `regionId`, instead of `clusterId`: the project of the database.",
      regionId: "With `projectId`, instead of `clusterId`: the region of the database.",
      collectionName: "The collection to import into (required; an import does not create it).",
      partitionName: "The partition; leave it out for the default partition.",
      dbName: "The database; leave it out for the default database.",
      volumeName: "The volume the files are in (usually a VolumeFiles' `volumeName`); or `stageName`, or `objectUrls`.",
      stageName: "The stage the files are in; or `volumeName`, or `objectUrls`.",
      dataPaths: "Batches of paths to import, e.g. a VolumeFiles' `dataPaths`; with `volumeName` or `stageName`.",
      objectUrls:
        "Instead of a volume or stage: batches of object URLs in your own bucket (`s3://bucket/key.parquet`, `s3://bucket/folder/`, `gs://...`, `https://...`), one JSON or Parquet file, one folder or the `.npy` files of one set of rows per batch. Needs `accessKey` and `secretKey`.",
      accessKey: "With `objectUrls`: the access key of a key pair that can read the objects. Secret; the state keeps only a digest of the keys as an output.",
      secretKey: "With `objectUrls`: the secret key of that pair. Secret; a change of only the keys is an update that starts no job.",
      objectUrlsHash: "SHA-256 of the object URLs imported (the URLs are not kept).",
      credentialsDigest: "A salted HMAC of `accessKey` and `secretKey`, to tell a change of keys; never the keys. Secret.",
      allowEmpty: "Accept an empty `dataPaths` (no job is started), e.g. with `changedDataPaths`.",
      trigger: "Any text: changing it starts a new job with the same inputs.",
      waitForCompletion: "Wait for the job to finish (default true).",
      timeoutSeconds: "How long create waits for the job (default 1800, at most 604800).",
      dataPathsHash: "SHA-256 of the batches imported.",
      batchCount: "How many batches were imported.",
      pathCount: "How many paths were imported.",
      jobId: "The service's job id; also the resource id.",
      state: "Pending, Importing, Completed, Failed, or Skipped (no job: empty dataPaths).",
      progress: "Percent done, as the service reports it.",
      importedRows: "Rows imported so far.",
      totalRows: "Rows in the files.",
      fileSize: "Bytes in the files.",
      completeTime: "When the job completed, as the service reports it.",
      reason: 'Why the job failed; "" otherwise.',
    },
  },
  MergeJob: {
    description:
      "One data merge: a new collection made from an existing one plus new fields whose values come from a Parquet file in a volume or stage, joined on a field (a left join: every row is kept, a row without a match gets null). Create starts the merge and waits for it; a merge that fails or outlives the timeout is recorded anyway, so the next `up` follows it rather than merging again. Changing what is merged starts a new merge, which needs a new `destCollectionName`; destroy leaves the new collection.",
    properties: {
      clusterId: "The cluster of the source collection; the new collection is made there too.",
      dbName: "The source collection's database; leave it out for the default database.",
      collectionName: "The source collection; it must exist.",
      destDbName: "The new collection's database; default `dbName`.",
      destCollectionName: "The new collection; it must not exist yet (the service never overwrites one) and must not be the source.",
      mergeField: "The join key, in both the collection and the Parquet rows, usually the primary key.",
      newFields: "The fields to add, at least one, each `{ fieldName, dataType, maxLength? }`; names unique and not the `mergeField`.",
      volumeName: "The volume that holds the Parquet data; or `stageName`; or neither, to add the fields empty.",
      stageName: "The stage that holds the Parquet data; or `volumeName`.",
      dataPath: "A Parquet file, or a folder ending in `/` of same-shaped Parquet files, relative to the volume or stage; required with a source.",
      waitForCompletion: "Wait for the merge to finish (default true); `false` returns once it started, and `refresh` follows it.",
      timeoutSeconds: "How long create waits for the merge (default 1800, at most 604800).",
      jobId: "The service's job id; also the resource id.",
      status: "PENDING, IN_PROGRESS, SUCCESSFUL or FAILED, as the service reports it.",
      progress: "Percent done, as the service reports it.",
      startTime: "When the merge started, as the service reports it.",
      endTime: 'When the merge ended; "" while it runs.',
      reason: 'Why the merge failed; "" otherwise.',
    },
  },
};

/** The fields of one of a MergeJob's `newFields`. */
export const NEW_FIELD_DOCS: Readonly<Record<string, string>> = {
  fieldName: "The new field's name.",
  dataType: `The new field's type, one of ${MERGE_DATA_TYPES.join(", ")}.`,
  maxLength: "VARCHAR only, required there: the longest value, at most 65535.",
};

export const FUNCTION_DOCS: Readonly<Record<string, string>> = {
  getVolume: "One volume by name, with its type, status and settings; `found` is false when there is no such volume.",
  getVolumes: "The project's volumes (of one type when `type` is given), with their type, status and description.",
  getStages: "The project's stages.",
};

export const CONFIG_DOCS = {
  apiKey: "The Zilliz Cloud API key (or `ZILLIZCLOUD_API_KEY`). Set it with `pulumi config set --secret zillizcloud:apiKey <key>`.",
  endpoint: "The Zilliz Cloud control-plane endpoint (or `ZILLIZCLOUD_ENDPOINT`); default https://api.cloud.zilliz.com. Point it at the emulator to work offline.",
};
