// What the merge tests share: Parquet files of chosen columns, and the emulator's collection inspection route.
import type { Emulator } from "../../provider/emulator";

type ColumnType = "INT32" | "INT64" | "STRING" | "BOOLEAN" | "FLOAT" | "DOUBLE";

/** A real Parquet file with the given columns (name -> type and values). */
export async function parquetColumns(columns: Record<string, { type: ColumnType; data: unknown[] }>): Promise<Buffer> {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const columnData = Object.entries(columns).map(([name, c]) => ({ name, type: c.type, data: c.data }));
  return Buffer.from(parquetWriteBuffer({ columnData }));
}

export interface CollectionPage {
  fields: Array<{ name: string; dataType: string; maxLength?: number; primaryKey?: boolean; nullable?: boolean }>;
  rowCount: number;
  offset: number;
  rows: Array<Record<string, unknown>>;
}

/** A collection as the emulator's inspection route shows it, or undefined when it does not exist. */
export async function inspectCollection(emu: Emulator, spec: string, query = ""): Promise<CollectionPage | undefined> {
  const res = await fetch(`${emu.url}/__emulator/collections/${spec}${query}`, { headers: { Authorization: `Bearer ${emu.apiKey}` } });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`inspection route answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: CollectionPage }).data;
}

/** Waits until the collection holds `rows` rows (an import completes at the emulator's pace). */
export async function untilRows(emu: Emulator, spec: string, rows: number, timeoutMs = 20_000): Promise<CollectionPage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const page = await inspectCollection(emu, spec, "?limit=1");
    if (page && page.rowCount >= rows) return page;
    if (Date.now() > until) throw new Error(`collection ${spec} has ${page?.rowCount ?? "no"} rows, waited for ${rows}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
