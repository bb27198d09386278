/**
 * What the files of an import (staged, or objects of the user's bucket) hold: how many rows each has, read the
 * way an import reads it: row-based JSON, Parquet (from the file's own
 * metadata) and NumPy `.npy` (from the array header). Anything else, a file
 * that does not parse or a path with nothing behind it gives a reason that
 * names the file.
 */
import type { JobFiles, JobSource } from "./object-urls";

/** Where a job reads from: a stage (older SDKs) or a volume (a bucket, for object URLs: JobSource). */
export interface StagedSource {
  kind: "stage" | "volume";
  name: string;
}

/**
 * The narrow view of the object store a job needs. Paths are relative to
 * the stage or volume (its prefix is not part of them).
 */
export interface StagedFiles {
  /** Whether the stage or volume exists. */
  exists(source: StagedSource): boolean;
  /** The object's bytes, or undefined when there is no object at `path`. */
  read(source: StagedSource, path: string): Promise<Buffer | undefined>;
  /** Paths of the objects under the folder `dir` (ending in "/"), in key order. */
  list(source: StagedSource, dir: string): string[];
}

/** A file of a job as read: its size, its rows, and the unit it imports with. */
export interface DataFile {
  fileName: string;
  /**
   * Files of one unit import together: a JSON or Parquet file is a unit of
   * its own; the .npy files of a batch (one per field) are one unit, the
   * columns of the same rows.
   */
  unit: number;
  fileSize: number;
  totalRows: number;
}

/** Where a reason says the file was: `volume raw`, `stage raw`, or the bucket of an object URL. */
function whereOf(source: JobSource): string {
  return source.kind === "objects" ? "the bucket" : `${source.kind} ${source.name}`;
}

/**
 * Reads every file `dataPaths` names (a path ending in "/" is a folder), or
 * says why not. A read or a listing that fails (a bucket that refuses the
 * keys or does not answer) gives its message as the reason.
 */
export async function readDataFiles(files: JobFiles, source: JobSource, dataPaths: string[][]): Promise<{ files: DataFile[] } | { reason: string }> {
  const where = whereOf(source);
  if (!files.exists(source)) return { reason: `${where} does not exist` };
  try {
    return await readAll(files, source, dataPaths, where);
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

async function readAll(files: JobFiles, source: JobSource, dataPaths: string[][], where: string): Promise<{ files: DataFile[] } | { reason: string }> {
  const found: DataFile[] = [];
  for (const [batch, paths] of dataPaths.entries()) {
    const names: string[] = [];
    for (const p of paths) {
      const listed = p.endsWith("/") ? await files.list(source, p) : [p];
      if (listed.length === 0) return { reason: `folder ${p} does not exist or is empty in ${where}` };
      names.push(...listed);
    }
    const numpy = names.filter((n) => dataFormat(n) === "numpy").length;
    if (numpy > 0 && numpy < names.length) {
      return { reason: `batch ${batch} mixes .npy files with other formats: a batch is one JSON or Parquet file, or one .npy file per field` };
    }
    const first = found.length;
    for (const name of names) {
      const bytes = await files.read(source, name);
      if (bytes === undefined) return { reason: `file ${name} does not exist in ${where}` };
      let rows: number;
      try {
        rows = await countRows(name, bytes);
      } catch (err) {
        return { reason: `cannot read file ${name}: ${(err as Error).message}` };
      }
      const unit = (found.at(-1)?.unit ?? -1) + (numpy > 0 && found.length > first ? 0 : 1);
      found.push({ fileName: name, unit, fileSize: bytes.length, totalRows: rows });
    }
    if (numpy > 0 && new Set(found.slice(first).map((f) => f.totalRows)).size > 1) {
      return { reason: `the .npy files of batch ${batch} (${names.join(", ")}) do not have the same number of rows` };
    }
  }
  return { files: found };
}


/** The formats an import accepts, by file name. */
export type DataFormat = "json" | "parquet" | "numpy";

export function dataFormat(fileName: string): DataFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".parquet")) return "parquet";
  if (lower.endsWith(".npy")) return "numpy";
  return undefined;
}

/** Rows in `bytes`, a file named `fileName`. Throws an Error whose message is the reason. */
export async function countRows(fileName: string, bytes: Buffer): Promise<number> {
  switch (dataFormat(fileName)) {
    case "json":
      return jsonRows(bytes);
    case "parquet":
      return parquetRows(bytes);
    case "numpy":
      return npyRows(bytes);
    default:
      throw new Error("unsupported file type: an import reads .json, .parquet or .npy files");
  }
}

/** Milvus's row-based JSON, `{"rows": [...]}`, or a plain array of rows. */
function jsonRows(bytes: Buffer): number {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const rows = Array.isArray(doc) ? doc : (doc as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new Error('JSON must be {"rows": [...]} or an array of rows');
  const bad = rows.findIndex((r) => r === null || typeof r !== "object" || Array.isArray(r));
  if (bad >= 0) throw new Error(`row ${bad} is not a JSON object`);
  return rows.length;
}

async function parquetRows(bytes: Buffer): Promise<number> {
  // Loaded on first use: only an emulator that imports Parquet pays for it.
  const { parquetMetadata } = await import("hyparquet");
  let rows: bigint | number;
  try {
    rows = parquetMetadata(bytes).num_rows;
  } catch (err) {
    throw new Error(`not a readable Parquet file (${(err as Error).message})`);
  }
  return Number(rows);
}

const NPY_MAGIC = Buffer.from([0x93, ...Buffer.from("NUMPY")]);

/**
 * The `.npy` header: magic, version, header length (2 bytes in v1, 4 in v2
 * and v3), then a Python dict literal whose `shape` tuple's first element
 * is the row count.
 */
function npyRows(bytes: Buffer): number {
  if (!bytes.subarray(0, 6).equals(NPY_MAGIC)) throw new Error("not a NumPy .npy file (bad magic)");
  if (bytes.length < 10) throw new Error(".npy header is cut off");
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`unsupported .npy format version ${major}.${bytes[7]}`);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new Error(".npy header is cut off");
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  if (bytes.length < start + headerLength) throw new Error(".npy header is cut off");
  const header = bytes.subarray(start, start + headerLength).toString(major === 3 ? "utf8" : "latin1");
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shape) throw new Error(".npy header has no shape");
  const dims = shape[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (dims.length === 0) throw new Error(".npy holds a single value (shape ()), not rows");
  if (!/^\d+$/.test(dims[0])) throw new Error(`.npy shape has a bad dimension ${JSON.stringify(dims[0])}`);
  return Number(dims[0]);
}
