import * as pulumi from "@pulumi/pulumi";
import { FilesArgs, FilesResource } from "./staged-files";

export interface VolumeFilesArgs extends FilesArgs {
  /** The MANAGED volume to upload into (usually `volume.volumeName`). An EXTERNAL volume is refused: its files live in your bucket. */
  volumeName: pulumi.Input<string>;
}

/**
 * What StagedFiles is, for a managed volume: the files of a local directory
 * (or one file) kept in the volume, uploading exactly what changed and
 * removing what was deleted locally; `destroy` removes exactly what it put
 * there. `dataPaths` is what an import job takes.
 */
export class VolumeFiles extends FilesResource {
  declare readonly volumeName: pulumi.Output<string>;

  constructor(name: string, args: VolumeFilesArgs, opts?: pulumi.CustomResourceOptions) {
    super("volumeFiles", "VolumeFiles", name, { volumeName: args.volumeName }, args, opts);
  }
}
