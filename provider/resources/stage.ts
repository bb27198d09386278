import * as pulumi from "@pulumi/pulumi";
import { serializableProvider } from "./provider-shim";

/** Endpoint and key for one resource, for programs that talk to two accounts. */
export interface ConnectionArgs {
  /** REST endpoint, e.g. `https://api.cloud.zilliz.com`. Defaults to `zillizcloud:endpoint`. */
  endpoint?: pulumi.Input<string>;
  /** API key. Defaults to `zillizcloud:apiKey`, then `ZILLIZCLOUD_API_KEY`. Stored only as a secret. */
  apiKey?: pulumi.Input<string>;
}

/** What Stage and Volume both take, besides their name and settings. */
export interface ContainerArgs {
  /** The Zilliz Cloud project it belongs to, e.g. `proj-4b3c...`. */
  projectId: pulumi.Input<string>;
  /** The cloud region, e.g. `aws-us-west-2` (volumes also `gcp-us-west1`). */
  regionId: pulumi.Input<string>;
  /**
   * Take over an existing one of this name instead of failing with "already
   * exists", when its settings match (Pulumi cannot import dynamic
   * resources). Default false.
   */
  adopt?: pulumi.Input<boolean>;
  /** Overrides the provider's endpoint and key for this resource. */
  connection?: pulumi.Input<ConnectionArgs>;
}

export interface StageArgs extends ContainerArgs {
  /** The stage's name: letters, digits, `_` and `-`, at most 64 characters. It is also the resource id. */
  stageName: pulumi.Input<string>;
}

/**
 * A Zilliz Cloud stage: a named storage area in a project, where files wait
 * to be imported into a collection or merged with one.
 *
 * Changing any input replaces the stage; when the name stays the same the old
 * stage is deleted first, since the service refuses duplicate names.
 * Take over an existing stage with the input `adopt: true`.
 */
export class Stage extends pulumi.dynamic.Resource {
  declare readonly projectId: pulumi.Output<string>;
  declare readonly regionId: pulumi.Output<string>;
  declare readonly stageName: pulumi.Output<string>;

  constructor(name: string, args: StageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serializableProvider("stage"),
      name,
      {
        projectId: args.projectId,
        regionId: args.regionId,
        stageName: args.stageName,
        adopt: args.adopt,
        connection: args.connection === undefined ? undefined : pulumi.secret(args.connection),
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
      "zillizcloud",
      "Stage",
    );
  }
}
