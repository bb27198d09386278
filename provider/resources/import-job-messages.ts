/**
 * What an ImportJob says: the label that names a job in lines and errors,
 * the hint added to a refused create, the input a failure reason points at.
 * Anything the service says back passes through withoutKeys first, so a
 * service that echoes the bucket keys cannot put them in a message.
 */
import { ZillizApiError, ZillizImportError } from "../errors";
import type { ImportJobInputs } from "./import-job-inputs";
import { sourceOf } from "./import-job-inputs";
import { importedList, withoutKeys } from "./import-job-object-urls";

/** Names the job in lines and errors: `ImportJob books <- volume raw` (never a key). */
export function labelOf(inputs: Pick<ImportJobInputs, "collectionName" | "volumeName" | "stageName" | "objectUrls"> & { objectUrlsHash?: string }): string {
  const source = sourceOf(inputs);
  return `ImportJob ${inputs.collectionName} <- ${source.kind} ${source.name}`;
}

/** A refused create, with the input to fix, and without the keys should the service quote them. */
export function refusedCreate(err: ZillizApiError, inputs: ImportJobInputs): ZillizApiError {
  const m = err.apiMessage;
  const missing = /not (exist|found)/i.test(m);
  const hint = /partition/i.test(m)
    ? "Check partitionName: the partition must exist in the collection."
    : /collection/i.test(m) && missing
      ? "Check collectionName (and dbName): the collection must exist before an import; an import does not create it."
      : /cluster|project/i.test(m) && missing
        ? "Check clusterId (or projectId and regionId): the deployment that holds the collection."
        : /volume|stage/i.test(m) && missing
          ? `Check ${inputs.volumeName ? "volumeName" : "stageName"}: the files must be uploaded there first.`
          : inputs.objectUrls && /access|denied|credential|key|signature|forbidden/i.test(m)
            ? "Check accessKey and secretKey: they must be a key pair that can list and read the objects of objectUrls."
            : undefined;
  const clean = withoutKeys(m, inputs);
  if (clean !== m) {
    // A new error, with no cause: the original carries the keys in its message.
    const { status, apiCode, call, requestId, retryAfterMs, attempts } = err;
    return new ZillizApiError({ status, apiCode, apiMessage: clean, call, requestId, retryAfterMs, attempts, hint: hint ?? err.hint });
  }
  return hint ? err.with({ hint }) : err;
}

/** Where a failure reason names one of the inputs' paths or URLs, the field that holds it. */
export function pathField(reason: string, inputs: Pick<ImportJobInputs, "dataPaths" | "objectUrls">): string | undefined {
  const { field, batches } = importedList(inputs);
  for (const [i, batch] of batches.entries()) {
    for (const [j, p] of batch.entries()) if (reason.includes(p)) return `${field}[${i}][${j}] (${p})`;
  }
  return undefined;
}

/** A job's failure with the input to fix named, and the keys out of its message and report. */
export function namedFailure(err: ZillizImportError, inputs: ImportJobInputs): ZillizImportError {
  const reason = err.report.reason ? withoutKeys(err.report.reason, inputs) : err.report.reason;
  const field = err.report.state === "Failed" && reason ? pathField(reason, inputs) : undefined;
  const message = withoutKeys(err.message, inputs) + (field ? `\nThe input to fix: ${field}.` : "");
  const details = err.details.map((d) => (d.reason ? { ...d, reason: withoutKeys(d.reason, inputs) } : d));
  if (message === err.message && reason === err.report.reason && details.every((d, i) => d.reason === err.details[i].reason)) return err;
  const report = { ...err.report, reason };
  // The original becomes the cause only when it carries no key.
  const cause = withoutKeys(err.message, inputs) === err.message ? err : undefined;
  return new ZillizImportError({ jobId: err.jobId, report, details, message, cause });
}
