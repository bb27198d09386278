import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "./provider-shim";
import { seededOutputs } from "./seeded-outputs";
import type { ConnectionArgs } from "./stage";

/** The outputs MergeJob declares (seeded-outputs.ts); destCollectionName is an input too. */
export const MERGE_JOB_OUTPUTS = ["jobId", "status", "progress", "startTime", "endTime", "reason"] as const;

/** One field a merge adds to the new collection. */
export interface NewFieldArgs {
  /** Its name; it must not be the mergeField or repeat another new field. */
  fieldName: pulumi.Input<string>;
  /** `VARCHAR`, `INT8`, `INT16`, `INT32`, `INT64`, `FLOAT`, `DOUBLE` or `BOOL`. */
  dataType: pulumi.Input<string>;
  /** Required for `VARCHAR` (its longest value, up to 65535), refused for the others. */
  maxLength?: pulumi.Input<number>;
}

export interface MergeJobArgs {
  /** The cluster that holds the source collection; the new collection is made in it too. */
  clusterId: pulumi.Input<string>;
  /** The source collection's database. Default `default`. */
  dbName?: pulumi.Input<string>;
  /** The collection whose rows the merge starts from; it is left as it is. */
  collectionName: pulumi.Input<string>;
  /** The new collection's database. Default: `dbName`. */
  destDbName?: pulumi.Input<string>;
  /** The new collection; it must not exist (the service refuses to overwrite one). */
  destCollectionName: pulumi.Input<string>;
  /** The join key, in both the collection and the Parquet rows (usually the primary key). */
  mergeField: pulumi.Input<string>;
  /** The fields to add, with values from the Parquet rows (null where no row matched). */
  newFields: pulumi.Input<pulumi.Input<NewFieldArgs>[]>;
  /** The volume the Parquet file is in (usually `files.volumeName`). Give this or `stageName`, or neither to add the fields empty. */
  volumeName?: pulumi.Input<string>;
  /** The stage the Parquet file is in (older deployments). */
  stageName?: pulumi.Input<string>;
  /**
   * A Parquet file, or a folder of same-shaped Parquet files, inside the
   * volume or stage; usually from a `VolumeFiles` output so the merge waits
   * for the upload.
   */
  dataPath?: pulumi.Input<string>;
  /** Wait until the merge is SUCCESSFUL (default true); false returns once it started. */
  waitForCompletion?: pulumi.Input<boolean>;
  /** How long to wait, default 1800 (30 minutes). A merge still running then is recorded, and the next `up` follows it. */
  timeoutSeconds?: pulumi.Input<number>;
  /** Overrides the provider's endpoint and key for this resource. */
  connection?: pulumi.Input<ConnectionArgs>;
}

/**
 * A Zilliz Cloud merge: a new collection made of an existing one plus new
 * fields whose values come from Parquet rows, joined on `mergeField` (a left
 * join: unmatched rows get nulls, Parquet rows with no match are dropped).
 * Create starts one merge and waits for it; a merge that fails or outlives
 * `timeoutSeconds` is recorded anyway, so the next `up` follows that same
 * job instead of starting a second one. Any change of what is merged
 * replaces the resource (a new merge, which needs a new
 * `destCollectionName`); delete leaves the new collection in place.
 */
export class MergeJob extends pulumi.dynamic.Resource {
  /** The service's id of the merge job. */
  declare readonly jobId: pulumi.Output<string>;
  /** `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `FAILED` (or `CANCELING`, `CANCELED`). */
  declare readonly status: pulumi.Output<string>;
  /** 0-100 (the service sends a string; this is a number). */
  declare readonly progress: pulumi.Output<number>;
  declare readonly startTime: pulumi.Output<string>;
  /** "" while the job runs. */
  declare readonly endTime: pulumi.Output<string>;
  /** Why the job failed; "" otherwise. */
  declare readonly reason: pulumi.Output<string>;
  /** The collection the merge made. */
  declare readonly destCollectionName: pulumi.Output<string>;

  constructor(name: string, args: MergeJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serializableProvider("mergeJob"),
      name,
      {
        clusterId: args.clusterId,
        dbName: args.dbName,
        collectionName: args.collectionName,
        destDbName: args.destDbName,
        destCollectionName: args.destCollectionName,
        mergeField: args.mergeField,
        newFields: args.newFields,
        volumeName: args.volumeName,
        stageName: args.stageName,
        dataPath: args.dataPath,
        waitForCompletion: args.waitForCompletion,
        timeoutSeconds: args.timeoutSeconds,
        connection: args.connection === undefined ? undefined : pulumi.secret(args.connection),
        ...seededOutputs(MERGE_JOB_OUTPUTS),
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
      "zillizcloud",
      "MergeJob",
    );
  }
}
