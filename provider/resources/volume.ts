import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "./provider-shim";
import type { ContainerArgs } from "./stage";

export interface VolumeArgs extends ContainerArgs {
  /** The volume's name: letters, digits, `_` and `-`, at most 64 characters. It is also the resource id. */
  volumeName: pulumi.Input<string>;
  /** `MANAGED` (default): Zilliz Cloud hosts the files, uploaded with VolumeFiles. `EXTERNAL`: a path in your own bucket. */
  type?: pulumi.Input<"MANAGED" | "EXTERNAL">;
  /** EXTERNAL only, required there: the storage integration that reaches your bucket. */
  storageIntegrationId?: pulumi.Input<string>;
  /** EXTERNAL only: the directory of your bucket, ending in "/"; without it, the storage integration's root. */
  path?: pulumi.Input<string>;
  /**
   * What the volume is for, at most 255 characters. The one setting a volume
   * can change after creation: changing it updates the volume in place
   * (never a replacement); removing it clears it.
   */
  description?: pulumi.Input<string>;
}

/**
 * A Zilliz Cloud volume: a MANAGED one holds files you upload (with
 * VolumeFiles) for import into a collection; an EXTERNAL one points at a
 * path in your own S3 or GCS bucket through a storage integration.
 *
 * Only `description` changes in place; changing any other input but
 * `connection` and `adopt` replaces the volume (the old one is deleted
 * first when the name stays). Take over
 * an existing volume with `adopt: true`.
 */
export class Volume extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly regionId: pulumi.Output<string>;
  declare readonly volumeName: pulumi.Output<string>;
  declare readonly type: pulumi.Output<"MANAGED" | "EXTERNAL">;
  declare readonly storageIntegrationId: pulumi.Output<string | undefined>;
  declare readonly path: pulumi.Output<string | undefined>;
  declare readonly description: pulumi.Output<string | undefined>;
  /** As the service reports it. */
  declare readonly status: pulumi.Output<string>;
  /** When the volume was created (ISO-8601), as the service reports it. */
  declare readonly createTime: pulumi.Output<string>;

  constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serializableProvider("volume"),
      name,
      {
        projectId: args.projectId,
        regionId: args.regionId,
        volumeName: args.volumeName,
        type: args.type,
        storageIntegrationId: args.storageIntegrationId,
        path: args.path,
        description: args.description,
        adopt: args.adopt,
        connection: args.connection === undefined ? undefined : pulumi.secret(args.connection),
        // Outputs exist on the resource object only when seeded here.
        status: undefined,
        createTime: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
      "zillizcloud",
      "Volume",
    );
  }
}
