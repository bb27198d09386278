/**
 * An ImportJob taken over with `pulumi import` (plugin/import-read.ts): its
 * state rebuilt from the service's job report, and the rule that decides
 * whether the program that follows names that same job.
 *
 * The report names the job's collection and files, but not the volume or
 * stage they were in (the import id says it), nor how they were batched
 * (one `.npy` batch is several files; a folder is all the files in it), nor
 * the database, partition or trigger. So an imported resource keeps the
 * report's file names (`jobFiles`), and its diff compares the program's
 * `dataPaths` with those files, not with a hash of a grouping it can only
 * guess. A program that names exactly those files is that job: no change,
 * and nothing is started. One that names other or more files from the same
 * place is refused rather than replaced: a new job could import some of the
 * job's rows a second time, and a file name that differs only in how the
 * service spells it is indistinguishable from a new file.
 */
import type { ImportJobProgress } from "../client/import-schemas";
import type { ImportTarget } from "../client/import-client";
import { ZillizValidationError } from "../errors";
import { ImportJobInputs, ImportJobOutputs, outputsFor } from "./import-job-inputs";
import { isUnknown } from "./inputs";

/** Where the job's files were, as the import id says it (`volume:<name>` or `stage:<name>`). */
export type JobSource = { kind: "volume" | "stage"; name: string };

/**
 * The report's files as `dataPaths`: a JSON or Parquet file is a batch of
 * its own; consecutive `.npy` files of one directory are one batch (the
 * columns of one set of rows, as the SDKs lay them out). The diff compares
 * files, not batches, so a program that grouped them otherwise still names
 * the same job.
 */
export function batchesOf(fileNames: readonly string[]): string[][] {
  const dirOf = (f: string) => f.slice(0, f.lastIndexOf("/") + 1);
  const isNpy = (f: string) => /\.npy$/i.test(f);
  const batches: string[][] = [];
  for (const f of fileNames) {
    const last = batches.at(-1);
    if (last && isNpy(f) && isNpy(last[0]) && dirOf(last[0]) === dirOf(f)) last.push(f);
    else batches.push([f]);
  }
  return batches;
}

/** The inputs and the state of an imported job: what create would have recorded, plus the report's files. */
export function importedJob(target: ImportTarget, source: JobSource, report: ImportJobProgress): { inputs: ImportJobInputs; outputs: ImportJobOutputs } {
  const jobFiles = report.details.map((d) => d.fileName);
  const inputs: ImportJobInputs = {
    ...target,
    collectionName: report.collectionName,
    [source.kind === "volume" ? "volumeName" : "stageName"]: source.name,
    dataPaths: batchesOf(jobFiles),
  };
  return { inputs, outputs: { ...outputsFor(inputs, { jobId: report.jobId, report }), jobFiles } };
}

/** The deployment and collection: the service confirmed them (the job was found there, the report names the collection). */
const WHERE_KEYS = ["clusterId", "projectId", "regionId", "collectionName"] as const;
/** The volume or stage: only the import id said it. */
const SOURCE_KEYS = ["volumeName", "stageName"] as const;

/** A path covers a file when it names it, or is a folder ("/" at the end) the file is in. */
const covers = (path: string, file: string) => file === path || (path.endsWith("/") && file.startsWith(path));

const some = (names: readonly string[]) => names.slice(0, 10).join(", ") + (names.length > 10 ? `, ... (${names.length} in all)` : "");

/**
 * How the program's inputs stand to an imported job. `replaces` empty: it is
 * that job (the program's grouping, database, partition and trigger are taken
 * as the job's; the report does not say them). Keys in `replaces`: the
 * program imports into another deployment or collection (a new job there
 * imports no row twice), or a value is not known yet (preview). Throws when
 * the program names other files or another source for the same collection.
 */
export function importedDiff(olds: ImportJobOutputs & { jobFiles: readonly string[] }, news: ImportJobInputs, label: string): { replaces: string[]; message?: string } {
  const differs = (k: (typeof WHERE_KEYS)[number] | (typeof SOURCE_KEYS)[number]) => (olds[k] ?? "") !== (news[k] ?? "");
  const unknown: string[] = [...WHERE_KEYS, ...SOURCE_KEYS].filter((k) => isUnknown(news[k]));
  if (isUnknown(news.dataPaths)) unknown.push("dataPaths");
  // Preview with values not known yet: the up decides, with them known, before anything starts.
  if (unknown.length > 0) return { replaces: unknown };

  const elsewhere = WHERE_KEYS.filter(differs);
  if (elsewhere.length > 0) {
    const where = olds.clusterId ? `cluster ${olds.clusterId}` : `project database ${olds.projectId}/${olds.regionId}`;
    return {
      replaces: elsewhere,
      message:
        `${label}: the program imports into another place than imported job ${olds.jobId} (${elsewhere.map((k) => `${k} ${olds[k] ?? "(none)"} -> ${news[k] ?? "(none)"}`).join(", ")}); ` +
        `this up starts a new job there. The rows job ${olds.jobId} imported stay in ${olds.collectionName} of ${where} (rows cannot be un-imported).`,
    };
  }

  const paths = (news.dataPaths ?? []).flat();
  const left = olds.jobFiles.filter((f) => !paths.some((p) => covers(p, f)));
  const extra = paths.filter((p) => !olds.jobFiles.some((f) => covers(p, f)));
  const sourceChanged = SOURCE_KEYS.some(differs);
  if (left.length === 0 && extra.length === 0 && !sourceChanged) return { replaces: [] };

  const recorded = olds.volumeName ? `volume ${olds.volumeName}` : `stage ${olds.stageName}`;
  const given = news.volumeName ? `volume ${news.volumeName}` : `stage ${news.stageName}`;
  const why: string[] = [];
  if (sourceChanged) {
    why.push(
      `the import id said its files were in ${recorded} (the job report does not name a volume or stage), the program says ${given}. ` +
        `If the id was wrong, \`pulumi state delete\` this resource and import it again with ${news.volumeName ? `volume:${news.volumeName}` : `stage:${news.stageName}`} in the id; otherwise fix the program`,
    );
  }
  if (left.length > 0) why.push(`the job's files the program's dataPaths leave out: ${some(left)}`);
  if (extra.length > 0) why.push(`paths in the program's dataPaths that name none of the job's files: ${some(extra)}`);
  throw new ZillizValidationError(
    sourceChanged ? (news.volumeName ? "volumeName" : "stageName") : "dataPaths",
    `${label}: the program does not name the files of imported job ${olds.jobId} (${olds.jobFiles.length} file(s) into ${olds.collectionName}): ${why.join("; ")}. ` +
      "A new job for what the program names could import rows of that job a second time, so nothing is started. " +
      "Make dataPaths name exactly the job's files (as `pulumi import` printed them, or grouped otherwise, or their folder). " +
      "To import other files, declare another ImportJob for just those; to import everything again on purpose, give this resource a new name " +
      "(the next up starts a new job and drops the imported one from the stack; its rows stay).",
  );
}
