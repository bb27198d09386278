/**
 * Where an import's rows go: when a job completes, the rows of the files it
 * read are appended to its collection. A JSON or Parquet file is a set of
 * rows; the .npy files of one unit are the columns of the same rows, one
 * file per field, named after it.
 */
import type { Collections } from "./collections";
import { readRows, type Row } from "./data-rows";
import type { JobFiles } from "./object-urls";
import type { CompletedImport } from "./import-jobs";

/** The hook ImportJobs calls on completion: reads the job's files again and stores their rows, or says why not. */
export function storeImportedRows(files: JobFiles, collections: Collections): (job: CompletedImport) => Promise<string | undefined> {
  return async (job) => {
    const rows: Row[] = [];
    const units = new Map<number, Row[][]>();
    for (const f of job.files) {
      let bytes: Buffer | undefined;
      try {
        // A bucket read again may refuse now (keys revoked, store gone): its message is the reason.
        bytes = await files.read(job.source, f.fileName);
      } catch (err) {
        return (err as Error).message;
      }
      if (bytes === undefined) return `file ${f.fileName} does not exist in ${job.source.kind === "objects" ? "the bucket" : `${job.source.kind} ${job.source.name}`}`;
      try {
        const read = await readRows(f.fileName, bytes);
        units.set(f.unit, [...(units.get(f.unit) ?? []), read.rows]);
      } catch (err) {
        return `cannot read file ${f.fileName}: ${(err as Error).message}`;
      }
    }
    for (const parts of units.values()) {
      // One part: a file of whole rows. Several: .npy columns of the same rows, joined by position.
      rows.push(...parts[0].map((r, i) => Object.assign(Object.create(null) as Row, r, ...parts.slice(1).map((p) => p[i]))));
    }
    await collections.insert(job, rows);
    return undefined;
  };
}
