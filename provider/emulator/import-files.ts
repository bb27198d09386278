/**
 * How many rows a staged data file holds, read the way an import reads it:
 * row-based JSON, Parquet (from the file's own metadata) and NumPy `.npy`
 * (from the array header). Anything else, or a file that does not parse,
 * throws with a message that says what is wrong with it.
 */

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
