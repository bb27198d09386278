/**
 * The merge itself, as the service describes it: a left join of a
 * collection's rows with Parquet rows on `mergeField`. Parquet rows with no
 * match are dropped; collection rows with no match get null for the new
 * fields; the result has the collection's fields plus the new ones. Pure:
 * the job that runs it reads the files and writes the collection.
 */
import type { WireNewField } from "../client/merge-schemas";
import type { Field } from "./collections";
import type { ColumnInfo, Row } from "./data-rows";

/** Physical Parquet types (STRING for UTF-8 text) a merge type accepts. */
const FITS: Record<string, readonly string[]> = {
  VARCHAR: ["STRING"],
  INT8: ["INT32", "INT64"],
  INT16: ["INT32", "INT64"],
  INT32: ["INT32", "INT64"],
  INT64: ["INT32", "INT64"],
  FLOAT: ["FLOAT", "DOUBLE"],
  DOUBLE: ["FLOAT", "DOUBLE"],
  BOOL: ["BOOLEAN"],
};

/** The range of the narrow integer types: a wider column fits only when every value does. */
const INT_RANGE: Record<string, [number, number]> = {
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
};

export interface ParquetData {
  /** Where the rows came from, for reasons: the dataPath. */
  dataPath: string;
  columns: ColumnInfo[];
  rows: Row[];
}

export interface MergeInputRows {
  source: { name: string; fields: readonly Field[]; rows: readonly Row[] };
  /** Undefined: no data source, the new fields are added empty. */
  parquet?: ParquetData;
  mergeField: string;
  newFields: readonly WireNewField[];
}

/** Joins the rows, or says why the merge fails. */
export function mergeRows(m: MergeInputRows): { fields: Field[]; rows: Row[] } | { reason: string } {
  const { source, parquet, mergeField, newFields } = m;
  if (!source.fields.some((f) => f.name === mergeField)) {
    return { reason: `collection ${source.name} has no field ${mergeField} (the mergeField)` };
  }
  for (const f of newFields) {
    if (source.fields.some((s) => s.name === f.fieldName)) return { reason: `collection ${source.name} already has a field ${f.fieldName}` };
  }
  const byKey = new Map<string, Row>();
  if (parquet) {
    const column = (name: string) => parquet.columns.find((c) => c.name === name);
    if (!column(mergeField)) return { reason: `the Parquet data at ${parquet.dataPath} has no column ${mergeField} (the mergeField)` };
    for (const f of newFields) {
      const c = column(f.fieldName);
      if (!c) return { reason: `the Parquet data at ${parquet.dataPath} has no column ${f.fieldName} for the new field ${f.fieldName}` };
      if (!FITS[f.dataType].includes(c.type)) {
        return { reason: `column ${f.fieldName} is ${c.type} in the Parquet data, which does not fit the new field ${f.fieldName} of type ${f.dataType}` };
      }
    }
    for (const [i, r] of parquet.rows.entries()) {
      for (const f of newFields) {
        const v = r[f.fieldName];
        if (v === null || v === undefined) continue;
        const range = Object.hasOwn(INT_RANGE, f.dataType) ? INT_RANGE[f.dataType] : undefined;
        if (range && (typeof v !== "number" || v < range[0] || v > range[1])) {
          return { reason: `row ${i} of the Parquet data: ${f.fieldName} = ${JSON.stringify(v)} does not fit the new field ${f.fieldName} of type ${f.dataType}` };
        }
        if (f.dataType === "VARCHAR" && typeof v === "string" && v.length > (f.params?.maxLength ?? Infinity)) {
          return { reason: `row ${i} of the Parquet data: ${f.fieldName} is ${v.length} characters, longer than its maxLength ${f.params?.maxLength}` };
        }
      }
      const key = JSON.stringify(r[mergeField]);
      // The first Parquet row of a key wins: a join key names one row.
      if (!byKey.has(key)) byKey.set(key, r);
    }
  }
  const fields: Field[] = [
    ...source.fields.map((f) => ({ ...f })),
    ...newFields.map((f) => ({ name: f.fieldName, dataType: f.dataType, ...(f.params ? { maxLength: f.params.maxLength } : {}), nullable: true })),
  ];
  const rows = source.rows.map((r) => {
    const match = byKey.get(JSON.stringify(r[mergeField]));
    const out = Object.assign(Object.create(null) as Row, r);
    for (const f of newFields) out[f.fieldName] = match && Object.hasOwn(match, f.fieldName) ? match[f.fieldName] : null;
    return out;
  });
  return { fields, rows };
}
