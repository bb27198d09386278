/**
 * The emulator's collections, with their rows: the ones its options name
 * (as `<clusterId>/[<dbName>/]<collectionName>`), and the ones merges make.
 * A collection named without a schema takes its fields from its first
 * import. Rows persist under the data directory (`collections.json`), so a
 * restarted emulator still has them; the sizes are a test's, not a
 * service's, so the whole file is rewritten on each change.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { jsonSafe, type Row } from "./data-rows";
import type { KnownCollection } from "./import-routes";

export const fieldSchema = z.object({
  name: z.string(),
  /** `INT64`, `VARCHAR`, `FLOAT_VECTOR`, `JSON`, ... or one of the merge types. */
  dataType: z.string(),
  maxLength: z.number().int().optional(),
  primaryKey: z.boolean().optional(),
  nullable: z.boolean().optional(),
});
export type Field = z.infer<typeof fieldSchema>;

const collectionSchema = z.object({
  location: z.string(),
  dbName: z.string(),
  collectionName: z.string(),
  /** Absent until the first import of a collection named without a schema. */
  fields: z.array(fieldSchema).optional(),
  rows: z.array(z.record(z.string(), z.unknown())),
});
export type Collection = z.infer<typeof collectionSchema>;

/**
 * Parses the CLI's `<spec>=<field>:<TYPE>[:<maxLength>][:pk],...`, e.g.
 * `in01-x/books=id:INT64:pk,title:VARCHAR:256`: the collection spec and its fields.
 */
export function parseFieldsSpec(text: string): { spec: string; fields: Field[] } {
  const fail = (why: string) =>
    new Error(`--collection-fields ${JSON.stringify(text)}: ${why}; expected <clusterId>/[<dbName>/]<collectionName>=<field>:<TYPE>[:<maxLength>][:pk],...`);
  const eq = text.indexOf("=");
  if (eq <= 0) throw fail("no '='");
  const fields = text
    .slice(eq + 1)
    .split(",")
    .map((part) => {
      const [name, dataType, ...rest] = part.split(":");
      if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !dataType || !/^[A-Z0-9_]+$/.test(dataType)) throw fail(`bad field ${JSON.stringify(part)}`);
      const field: Field = { name, dataType };
      for (const r of rest) {
        if (r === "pk") field.primaryKey = true;
        else if (/^\d+$/.test(r)) field.maxLength = Number(r);
        else throw fail(`bad field option ${JSON.stringify(r)} of ${name}`);
      }
      return field;
    });
  if (fields.filter((f) => f.primaryKey).length > 1) throw fail("more than one primary key");
  return { spec: text.slice(0, eq), fields };
}

export const collectionKey = (c: KnownCollection): string => `${c.location}/${c.dbName}/${c.collectionName}`;

/** The type a value suggests for a field, when a collection learns its fields from rows. */
function inferType(v: unknown): string {
  if (typeof v === "string") return "VARCHAR";
  if (typeof v === "boolean") return "BOOL";
  if (typeof v === "number") return Number.isInteger(v) ? "INT64" : "DOUBLE";
  if (Array.isArray(v)) return "FLOAT_VECTOR";
  return "JSON";
}

/** Fields from the first rows a collection sees, in the order they first appear; `id` (or the first) is the primary key. */
export function fieldsFromRows(rows: readonly Row[]): Field[] {
  const fields = new Map<string, Field>();
  for (const r of rows) {
    for (const [name, v] of Object.entries(r)) {
      if (!fields.has(name) && v !== null) fields.set(name, { name, dataType: inferType(v) });
    }
  }
  const list = [...fields.values()];
  const pk = list.find((f) => f.name === "id") ?? list[0];
  if (pk) pk.primaryKey = true;
  return list;
}

/** A row with exactly the collection's fields: what a row lacks is null, what the collection lacks is not kept. */
function shaped(r: Row, fields: readonly Field[]): Row {
  const out = Object.create(null) as Row;
  for (const f of fields) out[f.name] = Object.hasOwn(r, f.name) ? jsonSafe(r[f.name]) : null;
  return out;
}

export class Collections {
  private readonly byKey = new Map<string, Collection>();
  private write: Promise<void> = Promise.resolve();
  /**
   * Every collection that exists, as the import routes read it: a live list,
   * so a collection a merge makes can be imported into at once.
   */
  readonly known: KnownCollection[] = [];

  private constructor(private readonly file: string) {}

  static async open(dataDir: string, named: readonly KnownCollection[], schemas: ReadonlyMap<string, Field[]> = new Map()): Promise<Collections> {
    const collections = new Collections(path.join(dataDir, "collections.json"));
    try {
      const saved = z.array(collectionSchema).parse(JSON.parse(await fs.readFile(collections.file, "utf8")));
      for (const c of saved) collections.add({ ...c, rows: c.rows.map((r) => Object.assign(Object.create(null) as Row, r)) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    for (const c of named) {
      if (!collections.byKey.has(collectionKey(c))) collections.add({ ...c, fields: schemas.get(collectionKey(c)), rows: [] });
    }
    return collections;
  }

  private add(c: Collection): void {
    this.byKey.set(collectionKey(c), c);
    this.known.push({ location: c.location, dbName: c.dbName, collectionName: c.collectionName });
  }

  get(c: KnownCollection): Collection | undefined {
    return this.byKey.get(collectionKey(c));
  }

  /** Whether any collection lives at `location` (a cluster, or `projectId:regionId`). */
  hasLocation(location: string): boolean {
    return this.known.some((c) => c.location === location);
  }

  /** Appends imported rows; the first import of a collection without fields gives it its fields. */
  async insert(where: KnownCollection, rows: readonly Row[]): Promise<void> {
    const c = this.byKey.get(collectionKey(where));
    if (!c) throw new Error(`collection ${where.collectionName} does not exist`);
    c.fields ??= fieldsFromRows(rows);
    const fields = c.fields;
    c.rows.push(...rows.map((r) => shaped(r, fields)));
    await this.persist();
  }

  /** Makes a new collection (a merge's destination); refuses a name that is taken. */
  async create(where: KnownCollection, fields: Field[], rows: readonly Row[]): Promise<void> {
    if (this.byKey.has(collectionKey(where))) throw new Error(`collection ${where.collectionName} already exists in database ${where.dbName}`);
    this.add({ ...where, fields, rows: rows.map((r) => shaped(r, fields)) });
    await this.persist();
  }

  private persist(): Promise<void> {
    // Serialized so that two quick changes never land out of order; one failed write does not stop the next.
    const write = this.write.then(async () => {
      const tmp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
      await fs.writeFile(tmp, JSON.stringify([...this.byKey.values()]));
      await fs.rename(tmp, this.file);
    });
    this.write = write.catch(() => undefined);
    return write;
  }
}
