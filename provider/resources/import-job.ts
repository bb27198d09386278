import * as pulumi from "@pulumi/pulumi";
import { packedOf } from "./packed-data-paths";
import { serializableProvider } from "./provider-shim";
import { seededOutputs } from "./seeded-outputs";
import type { ConnectionArgs } from "./stage";

/** The outputs ImportJob declares (seeded-outputs.ts). */
export const IMPORT_JOB_OUTPUTS = ["jobId", "state", "progress", "importedRows", "totalRows", "fileSize", "completeTime", "reason"] as const;

/** Outputs that carry a key, or the digest of one: secret in the state. */
const IMPORT_JOB_SECRETS = ["connection", "accessKey", "secretKey", "credentialsDigest"];

export interface ImportJobArgs {
  /** The cluster that holds the collection. Give this, or `projectId` and `regionId`, not both. */
  clusterId?: pulumi.Input<string>;
  /** With `regionId`: a project database instead of a cluster (newer SDKs address it so). */
  projectId?: pulumi.Input<string>;
  regionId?: pulumi.Input<string>;
  /** The collection to import into; it must exist (an import does not create it). */
  collectionName: pulumi.Input<string>;
  /** Default: the collection's default partition. */
  partitionName?: pulumi.Input<string>;
  /** Default: the `default` database. Sent in the body and as the `DB-Name` header. */
  dbName?: pulumi.Input<string>;
  /** The volume the files are in (usually `files.volumeName`). Give this, `stageName` or `objectUrls`. */
  volumeName?: pulumi.Input<string>;
  /** The stage the files are in (older deployments). */
  stageName?: pulumi.Input<string>;
  /**
   * Batches of paths inside the volume or stage: one JSON or Parquet file,
   * the .npy files of one set of rows, or a folder ending in `/`. Usually
   * `files.dataPaths` (everything) or `files.changedDataPaths` (what the last
   * update added or changed). A change starts a new job. Required with
   * `volumeName` or `stageName`; not with `objectUrls`.
   */
  dataPaths?: pulumi.Input<pulumi.Input<pulumi.Input<string>[]>[]>;
  /**
   * Import straight from your own bucket instead of a volume or stage:
   * batches of object URLs (`s3://bucket/key.parquet`, `s3://bucket/folder/`,
   * `gs://...`, `https://...`), by the rules of `dataPaths`. A change starts
   * a new job. Needs `accessKey` and `secretKey`.
   */
  objectUrls?: pulumi.Input<pulumi.Input<pulumi.Input<string>[]>[]>;
  /**
   * With `objectUrls`: the key pair the service reads the objects with.
   * Sent as secrets (the state keeps them encrypted as inputs, and only a
   * digest as an output). A change of only the keys starts no new job.
   */
  accessKey?: pulumi.Input<string>;
  secretKey?: pulumi.Input<string>;
  /** An empty `dataPaths` starts no job (state `Skipped`) instead of being refused; for `changedDataPaths`. */
  allowEmpty?: pulumi.Input<boolean>;
  /**
   * Any text; a change starts a new job even when `dataPaths` did not
   * change (pass `files.manifestHash` with `changedDataPaths`, so a file
   * changed twice under the same name is imported again).
   */
  trigger?: pulumi.Input<string>;
  /** Wait until the job is Completed (default true); false returns once it started. */
  waitForCompletion?: pulumi.Input<boolean>;
  /** How long to wait, default 1800 (30 minutes). A job still running then is recorded, and the next `up` follows it. */
  timeoutSeconds?: pulumi.Input<number>;
  /** Overrides the provider's endpoint and key for this resource. */
  connection?: pulumi.Input<ConnectionArgs>;
}

/**
 * A Zilliz Cloud import job: the files of a volume (or stage), or objects of
 * your own bucket, imported into a collection. Create starts one job and waits for it, printing progress;
 * a job that fails or outlives `timeoutSeconds` is recorded anyway, so the
 * next `up` follows that same job instead of importing the rows twice.
 * Changing what is imported starts a new job; delete removes no rows (rows
 * cannot be un-imported).
 */
export class ImportJob extends pulumi.dynamic.Resource {
  /** The service's id of the job; "" when nothing was imported (allowEmpty), where the resource id is "no-job". */
  declare readonly jobId: pulumi.Output<string>;
  /** `Pending`, `Importing`, `Completed`, `Failed`, or `Skipped` (allowEmpty with no paths). */
  declare readonly state: pulumi.Output<string>;
  /** 0-100. */
  declare readonly progress: pulumi.Output<number>;
  declare readonly importedRows: pulumi.Output<number>;
  declare readonly totalRows: pulumi.Output<number>;
  /** Bytes of the files imported. */
  declare readonly fileSize: pulumi.Output<number>;
  /** When the job ended (ISO 8601), "" while it runs. */
  declare readonly completeTime: pulumi.Output<string>;
  /** Why the job failed; "" otherwise. */
  declare readonly reason: pulumi.Output<string>;

  constructor(name: string, args: ImportJobArgs, opts?: pulumi.CustomResourceOptions) {
    // A files resource's dataPaths, as they are, go packed: one string
    // instead of a list per file (packed-data-paths.ts).
    const packed = packedOf(args.dataPaths);
    super(
      serializableProvider("importJob"),
      name,
      {
        clusterId: args.clusterId,
        projectId: args.projectId,
        regionId: args.regionId,
        collectionName: args.collectionName,
        partitionName: args.partitionName,
        dbName: args.dbName,
        volumeName: args.volumeName,
        stageName: args.stageName,
        ...(packed ? { dataPathsPacked: packed } : { dataPaths: args.dataPaths }),
        objectUrls: args.objectUrls,
        // Secret whatever the program passed: the engine then encrypts them in the state.
        accessKey: args.accessKey === undefined ? undefined : pulumi.secret(args.accessKey),
        secretKey: args.secretKey === undefined ? undefined : pulumi.secret(args.secretKey),
        allowEmpty: args.allowEmpty,
        trigger: args.trigger,
        waitForCompletion: args.waitForCompletion,
        timeoutSeconds: args.timeoutSeconds,
        connection: args.connection === undefined ? undefined : pulumi.secret(args.connection),
        ...seededOutputs(IMPORT_JOB_OUTPUTS),
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...IMPORT_JOB_SECRETS] },
      "zillizcloud",
      "ImportJob",
    );
  }
}
