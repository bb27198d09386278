// Real data files an import reads: .npy, Parquet (written with hyparquet-writer) and row-based JSON.

/** A real .npy file: header of format `version`, then zeros for the data. */
export function npy(shape: number[], version: 1 | 2 | 3 = 1): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const lengthBytes = version === 1 ? 2 : 4;
  // The header (with its trailing newline) pads the preamble to a multiple of 64 bytes.
  const unpadded = 8 + lengthBytes + dict.length + 1;
  const header = dict + " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const preamble = Buffer.alloc(8 + lengthBytes);
  Buffer.from([0x93, ...Buffer.from("NUMPY"), version, 0]).copy(preamble);
  if (version === 1) preamble.writeUInt16LE(header.length, 8);
  else preamble.writeUInt32LE(header.length, 8);
  const values = shape.reduce((a, b) => a * b, 1);
  return Buffer.concat([preamble, Buffer.from(header, version === 3 ? "utf8" : "latin1"), Buffer.alloc(values * 4)]);
}

/** A real Parquet file of `rows` rows, written in row groups of 100 so the count spans several. */
export async function parquet(rows: number): Promise<Buffer> {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const ids = Array.from({ length: rows }, (_, i) => i);
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: "id", data: ids, type: "INT32" },
      { name: "title", data: ids.map((i) => `book ${i}`), type: "STRING" },
    ],
    rowGroupSize: 100,
  });
  return Buffer.from(buffer);
}

export const jsonRows = (n: number) => JSON.stringify({ rows: Array.from({ length: n }, (_, i) => ({ id: i, vector: [i, i] })) });
