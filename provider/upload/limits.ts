/**
 * The apply answer's limits on one upload (files, bytes), checked before any
 * byte moves.
 */
import { dialectOf } from "../client/dialect";
import type { StageUploadTarget } from "../client/schemas";
import { ZillizValidationError } from "../errors";
import type { UploadJob } from "./execute";

/**
 * The apply answer's limits on one upload, checked before any byte moves. 0
 * (or absent) is read as "no limit given", not "nothing may be uploaded".
 */
export function checkLimits(job: UploadJob, condition: StageUploadTarget["condition"], files: number, bytes: number): void {
  const noun = dialectOf(job).noun;
  const fix =
    `nothing was uploaded. Split the files over several resources with different paths (several ` +
    `${"volumeName" in job ? "VolumeFiles" : "StagedFiles"} resources), or leave some out with \`exclude\`.`;
  const maxFiles = condition.maxFileNumber ?? 0;
  if (maxFiles > 0 && files > maxFiles) {
    throw new ZillizValidationError(
      "source",
      `${files} files exceed the ${noun}'s limit of ${maxFiles} files per upload (condition.maxFileNumber); ${fix}`,
    );
  }
  const maxBytes = condition.maxContentLength;
  if (maxBytes > 0 && bytes > maxBytes) {
    throw new ZillizValidationError(
      "source",
      `${files} files totalling ${bytes} bytes exceed the ${noun}'s upload limit of ${maxBytes} bytes (condition.maxContentLength); ${fix}`,
    );
  }
}
