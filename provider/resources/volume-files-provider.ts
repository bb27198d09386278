/**
 * The CRUD logic behind `VolumeFiles`: the StagedFiles provider in the
 * volume dialect (`volumeName`, `/v2/volumes/apply`), refusing an EXTERNAL
 * volume, whose files live in the user's own bucket.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ZillizClient } from "../client";
import { ZillizValidationError } from "../errors";
import { volumeFilesInputsSchema } from "./inputs";
import { ProviderContext } from "./provider-context";
import { stagedFilesProvider } from "./staged-files-provider";
import type { FilesDialect } from "./staged-files-state";

/** Describe says what the volume is; a volume that does not exist is left to apply to report. */
async function refuseExternal(client: ZillizClient, volumeName: string): Promise<void> {
  const volume = await client.describeVolume(volumeName);
  if (volume?.type === "EXTERNAL") {
    throw new ZillizValidationError(
      "volumeName",
      `volume ${volumeName} is EXTERNAL: its files live in your own bucket${volume.path ? ` under ${volume.path}` : ""} ` +
        "and are managed there, with your own tools and credentials, never uploaded through the volume. " +
        "Point VolumeFiles at a MANAGED volume, or put the files into your bucket directly.",
    );
  }
}

export const VOLUME_FILES: FilesDialect = {
  resource: "VolumeFiles",
  nameField: "volumeName",
  inputsSchema: volumeFilesInputsSchema,
  checkContainer: refuseExternal,
};

export function volumeFilesProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  return stagedFilesProvider(context, VOLUME_FILES);
}
