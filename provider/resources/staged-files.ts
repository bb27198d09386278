import * as pulumi from "@pulumi/pulumi";
// The program decodes this resource's outputs: long strings through Node's UTF-8 (issue 20).
import "../protobuf-strings";
// Only node's zlib behind it: cheap for the program to load.
import { manifestPaths } from "../upload/manifest-codec";
import { decodeChanged } from "./changed-files";
import { lazyOutput } from "./lazy-output";
import { packDataPaths, packOnePerBatch, withPacked } from "./packed-data-paths";
import { serializableProvider } from "./provider-shim";
import type { ProviderKind } from "./runtime";
import type { ConnectionArgs } from "./stage";

/** What StagedFiles and VolumeFiles both take, besides the name of where the files go. */
export interface FilesArgs {
  /**
   * A file or a directory, relative to the Pulumi project directory or
   * absolute; or a folder in an object store, `s3://bucket/prefix/` or
   * `gs://bucket/prefix/`, copied without a local copy (credentials from
   * the AWS default chain; for gs://, GOOGLE_OAUTH_ACCESS_TOKEN or
   * GS_ACCESS_KEY_ID/GS_SECRET_ACCESS_KEY).
   */
  source: pulumi.Input<string>;
  /** For an `s3://` source in a store other than AWS: its endpoint, e.g. `https://minio.example.com:9000`. */
  sourceEndpoint?: pulumi.Input<string>;
  /** For an `s3://` source: the bucket in the URL path (default: true with `sourceEndpoint`, false for AWS). */
  sourcePathStyle?: pulumi.Input<boolean>;
  /** For an `s3://` source: the bucket's region for signing (default AWS_REGION, then us-east-1). */
  sourceRegion?: pulumi.Input<string>;
  /** Target directory inside the stage: "" (the root, default) or a path such as `data/`. */
  path?: pulumi.Input<string>;
  /** Globs (relative POSIX paths) of files to upload; default everything. */
  include?: pulumi.Input<pulumi.Input<string>[]>;
  /** Globs of files to leave out; wins over `include`. */
  exclude?: pulumi.Input<pulumi.Input<string>[]>;
  /** Remove files from the stage when they disappear locally (default true). */
  deleteRemoved?: pulumi.Input<boolean>;
  /** Requests in flight during an upload (default 16). */
  concurrency?: pulumi.Input<number>;
  /** Hash every file again instead of trusting size and modification time (default false). */
  forceRehash?: pulumi.Input<boolean>;
  /** `inside` (default): symlinks must stay inside `source`; `any`: follow them anywhere. */
  followSymlinks?: pulumi.Input<"inside" | "any">;
  /**
   * Accept a source that yields no file (default false). Without it such a
   * source is refused at preview, since `up` would remove every file under
   * `path`; with it, the diff says loudly that every file goes.
   */
  allowEmpty?: pulumi.Input<boolean>;
  /** Overrides the provider's endpoint and key for this resource. */
  connection?: pulumi.Input<ConnectionArgs>;
  /**
   * Overwrite objects at this path that another resource (another stack,
   * another resource of this one) wrote with different content, instead of
   * refusing the run (default false). Objects with the same content are
   * taken over without it: that is what a rename or `--replace` finds.
   */
  takeOver?: pulumi.Input<boolean>;
}

export interface StagedFilesArgs extends FilesArgs {
  /** The stage to upload into (usually `stage.stageName`). */
  stageName: pulumi.Input<string>;
}

/**
 * What StagedFiles and VolumeFiles have in common: one provider
 * implementation (two dialects), the same inputs besides the name, and the
 * same outputs, `files` and `dataPaths` derived in the program.
 */
export abstract class FilesResource extends pulumi.dynamic.Resource {
  /** The normalised target directory: "" or ending in "/". */
  declare readonly path: pulumi.Output<string>;
  declare readonly fileCount: pulumi.Output<number>;
  declare readonly totalBytes: pulumi.Output<number>;
  /** One SHA-256 over the whole manifest: changes exactly when the stored content does. */
  declare readonly manifestHash: pulumi.Output<string>;
  /** The manifest, encoded (about 45 bytes a file); `files` and `dataPaths` are derived from it. */
  declare readonly manifest: pulumi.Output<string>;

  private derivedFiles?: pulumi.Output<string[]>;

  /**
   * Object paths inside the stage or volume, e.g. `data/1.parquet`. Derived
   * in the program from `manifest` on first use rather than stored, which
   * keeps the state at one copy of the file list.
   */
  get files(): pulumi.Output<string[]> {
    this.derivedFiles ??= pulumi.all([this.path, this.manifest]).apply(([p, m]) => manifestPaths(m).map((rel) => p + rel));
    return this.derivedFiles;
  }

  /**
   * `[["data/1.parquet"], ...]`: what an import job takes as `dataPaths`.
   * Given to an ImportJob as it is, it travels packed (one string, see
   * packed-data-paths.ts), whatever the number of files.
   */
  get dataPaths(): pulumi.Output<string[][]> {
    // Both forms straight from the manifest, not through `files`: that list
    // stays on the resource for the program's life once made, and only a
    // program that asks for `files` should hold it.
    // The list is made only if something reads it (lazy-output.ts): an
    // ImportJob takes the packed form alone.
    const known = () => pulumi.all([this.path, this.manifest]);
    const batches = lazyOutput(() => known().apply(([p, m]) => manifestPaths(m).map((rel) => [p + rel])));
    return withPacked(batches, () =>
      known().apply(([p, m]) => {
        const rels = manifestPaths(m);
        return packOnePerBatch(rels.length, (i) => p + rels[i]);
      }),
    );
  }

  /** Which files the last create or update added or changed, as index ranges over the sorted files (see changedDataPaths). */
  declare readonly changed: pulumi.Output<string>;
  /**
   * Written with every object this resource writes: its removals and
   * destroy delete only objects carrying it. Not a secret.
   */
  declare readonly ownerToken: pulumi.Output<string>;

  /**
   * The files the last create or update added or changed, in the shape of
   * `dataPaths`; empty when it added or changed none. For an ImportJob that
   * imports only what is new (with `allowEmpty: true`). Files that arrived
   * in a run that failed part-way are listed by the next finished one.
   */
  get changedDataPaths(): pulumi.Output<string[][]> {
    const changed = () =>
      pulumi.all([this.path, this.manifest, this.changed]).apply(([p, m, c]) => decodeChanged(c, manifestPaths(m)).map((rel) => [p + rel]));
    return withPacked(lazyOutput(changed), () => changed().apply(packDataPaths));
  }

  protected constructor(
    kind: ProviderKind,
    type: "StagedFiles" | "VolumeFiles",
    name: string,
    target: Record<string, pulumi.Input<string>>,
    args: FilesArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      serializableProvider(kind),
      name,
      {
        ...target,
        source: args.source,
        sourceEndpoint: args.sourceEndpoint,
        sourcePathStyle: args.sourcePathStyle,
        sourceRegion: args.sourceRegion,
        path: args.path,
        include: args.include,
        exclude: args.exclude,
        deleteRemoved: args.deleteRemoved,
        concurrency: args.concurrency,
        forceRehash: args.forceRehash,
        followSymlinks: args.followSymlinks,
        allowEmpty: args.allowEmpty,
        takeOver: args.takeOver,
        // Written with the objects, for the message another resource shows
        // when it meets them; a change of it alone is no change.
        ownerUrn: pulumi.createUrn(name, `pulumi-nodejs:dynamic/zillizcloud:${type}`, opts?.parent),
        connection: args.connection === undefined ? undefined : pulumi.secret(args.connection),
        // Outputs exist on the resource object only when seeded here.
        fileCount: undefined,
        totalBytes: undefined,
        manifestHash: undefined,
        manifest: undefined,
        changed: undefined,
        ownerToken: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
      "zillizcloud",
      type,
    );
  }
}

/**
 * The files of a local directory (or one file), kept in a stage: `up` uploads
 * exactly the files whose content changed (SHA-256) and removes what was
 * deleted locally; `destroy` removes exactly the objects this resource put
 * there. `pulumi preview --diff` lists the files that would change (at most
 * 30 by name, then a count).
 */
export class StagedFiles extends FilesResource {
  declare readonly stageName: pulumi.Output<string>;

  constructor(name: string, args: StagedFilesArgs, opts?: pulumi.CustomResourceOptions) {
    super("stagedFiles", "StagedFiles", name, { stageName: args.stageName }, args, opts);
  }
}
