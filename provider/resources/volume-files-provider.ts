/**
 * The CRUD logic behind `VolumeFiles`: the StagedFiles provider in the
 * volume dialect (`volumeName`, `/v2/volumes/apply`), refusing an EXTERNAL
 * volume, whose files live in the user's own bucket.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ZillizClient } from "../client";
import { isUnusableVolumeStatus } from "../client/volume-schemas";
import { ZillizValidationError } from "../errors";
import { volumeFilesInputsSchema } from "./inputs";
import { ProviderContext } from "./provider-context";
import { stagedFilesProvider } from "./staged-files-provider";
import type { FilesDialect } from "./staged-files-state";

/**
 * Describe says what the volume is; a volume that does not exist is left to
 * apply to report. Refused before any upload: an EXTERNAL volume (files in
 * the user's bucket), and a Frozen one (an organization frozen for unpaid
 * invoices takes no new operations, and its files are later deleted).
 */
async function checkVolume(client: ZillizClient, volumeName: string): Promise<void> {
  const volume = await client.describeVolume(volumeName);
  if (isUnusableVolumeStatus(volume?.status)) {
    throw new ZillizValidationError(
      "volumeName",
      `volume ${volumeName} is ${volume!.status}: Zilliz Cloud takes no new operations on it while the organization is frozen ` +
        "(unpaid invoices), so nothing was uploaded. Settle the billing in the Zilliz Cloud console, then run again.",
    );
  }
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
  checkContainer: checkVolume,
};

export function volumeFilesProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  return stagedFilesProvider(context, VOLUME_FILES);
}
