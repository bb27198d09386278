/**
 * The rows of the files an import or a merge reads: row-based JSON,
 * Parquet (read with hyparquet, with each column's physical type, which a
 * merge checks against the field's type) and NumPy `.npy` (one file per
 * field, named after it). Values are made JSON-safe on the way in: 64-bit
 * integers become numbers when they fit and decimal strings otherwise,
 * typed arrays plain arrays; the collections persist as JSON.
 */
import * as path from "node:path";
import { dataFormat } from "./import-files";

/** One row, keyed by field name; prototype-free because the keys are user data. */
export type Row = Record<string, unknown>;

/** A Parquet column: its name and physical type (`INT32`, `INT64`, `FLOAT`, `DOUBLE`, `BOOLEAN`, `BYTE_ARRAY`, ...), `STRING` for UTF-8 text. */
export interface ColumnInfo {
  name: string;
  type: string;
}

export interface FileRows {
  rows: Row[];
  /** Parquet only: the columns and their types. */
  columns?: ColumnInfo[];
}

/** A JSON-safe copy of a value as a reader gave it. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>, jsonSafe);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === "object") return row(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v === undefined ? null : v;
}

function row(entries: Iterable<[string, unknown]>): Row {
  const r = Object.create(null) as Row;
  for (const [k, v] of entries) r[k] = v;
  return r;
}

/** Rows in `bytes`, a file named `fileName`. Throws an Error whose message is the reason. */
export async function readRows(fileName: string, bytes: Buffer): Promise<FileRows> {
  switch (dataFormat(fileName)) {
    case "json":
      return { rows: jsonFileRows(bytes) };
    case "parquet":
      return parquetFileRows(bytes);
    case "numpy":
      return { rows: npyValues(bytes).map((v) => row([[path.posix.basename(fileName, path.extname(fileName)), v]])) };
    default:
      throw new Error("unsupported file type: an import reads .json, .parquet or .npy files");
  }
}

function jsonFileRows(bytes: Buffer): Row[] {
  const doc: unknown = JSON.parse(bytes.toString("utf8"));
  const rows = Array.isArray(doc) ? doc : (doc as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new Error('JSON must be {"rows": [...]} or an array of rows');
  return rows.map((r) => jsonSafe(r) as Row);
}

async function parquetFileRows(bytes: Buffer): Promise<FileRows> {
  // Loaded on first use: only an emulator that reads Parquet pays for it.
  const { parquetMetadata, parquetReadObjects, parquetSchema } = await import("hyparquet");
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  let metadata;
  try {
    metadata = parquetMetadata(file);
  } catch (err) {
    throw new Error(`not a readable Parquet file (${(err as Error).message})`);
  }
  const columns = parquetSchema(metadata).children.map((c) => {
    const e = c.element;
    const text = e.type === "BYTE_ARRAY" && (e.converted_type === "UTF8" || e.logical_type?.type === "STRING");
    return { name: e.name, type: text ? "STRING" : (e.type ?? "GROUP") };
  });
  const rows = await parquetReadObjects({ file, metadata });
  return { rows: rows.map((r) => jsonSafe(r) as Row), columns };
}

const NPY_MAGIC = Buffer.from([0x93, ...Buffer.from("NUMPY")]);
const NPY_READERS: Record<string, [number, (b: Buffer, at: number) => number | boolean | bigint]> = {
  "<f4": [4, (b, at) => b.readFloatLE(at)],
  "<f8": [8, (b, at) => b.readDoubleLE(at)],
  "<i1": [1, (b, at) => b.readInt8(at)],
  "|i1": [1, (b, at) => b.readInt8(at)],
  "<i2": [2, (b, at) => b.readInt16LE(at)],
  "<i4": [4, (b, at) => b.readInt32LE(at)],
  "<i8": [8, (b, at) => b.readBigInt64LE(at)],
  "|b1": [1, (b, at) => b[at] !== 0],
};

/** The values of a 1-D (scalars) or 2-D (vectors) little-endian .npy array, one per row. */
function npyValues(bytes: Buffer): unknown[] {
  if (!bytes.subarray(0, 6).equals(NPY_MAGIC)) throw new Error("not a NumPy .npy file (bad magic)");
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const header = bytes.subarray(start, start + headerLength).toString(major === 3 ? "utf8" : "latin1");
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1] ?? "";
  const reader = Object.hasOwn(NPY_READERS, descr) ? NPY_READERS[descr] : undefined;
  if (!reader) throw new Error(`.npy dtype ${JSON.stringify(descr)} is not one the emulator reads (little-endian int, float or bool)`);
  if (/['"]fortran_order['"]\s*:\s*True/.test(header)) throw new Error(".npy in Fortran order is not supported");
  const shape = (/['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (shape.length === 0 || shape.length > 2) throw new Error(`.npy of shape (${shape.join(", ")}): rows of scalars or of vectors expected`);
  const [size, read] = reader;
  const width = shape[1] ?? 1;
  let at = start + headerLength;
  if (bytes.length < at + shape[0] * width * size) throw new Error(".npy data is cut off");
  const values: unknown[] = [];
  for (let i = 0; i < shape[0]; i++) {
    const vector: unknown[] = [];
    for (let j = 0; j < width; j++, at += size) vector.push(jsonSafe(read(bytes, at)));
    values.push(shape.length === 1 ? vector[0] : vector);
  }
  return values;
}
