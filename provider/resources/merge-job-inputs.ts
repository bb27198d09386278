/**
 * What a MergeJob takes and keeps: its inputs as a zod schema, the rules
 * between them (one source or none, new fields that fit the service's
 * types, no clash with the join key), the wire request they make and the
 * outputs the state holds. Pure; the provider does the I/O.
 */
import { z } from "zod";
import { dataPathSchema } from "../client/import-schemas";
import { JobReport, MAX_VARCHAR_LENGTH, mergeDataTypeSchema } from "../client/merge-schemas";
import type { MergeInput } from "../client/jobs-client";
import { stageNameSchema } from "../client/schemas";
import { connectionInputSchema } from "./connection";
import { CheckFailure, isUnknown } from "./inputs";

/** How long create (or the update that follows a running merge) waits, when the program does not say. */
export const DEFAULT_MERGE_TIMEOUT_SECONDS = 1800;
const DEFAULT_DB = "default";

const nameSchema = z.string().min(1, "must not be empty");

export const newFieldInputSchema = z.object({
  fieldName: z.string().min(1, "must not be empty"),
  dataType: mergeDataTypeSchema,
  maxLength: z.number().int().min(1, "must be at least 1").max(MAX_VARCHAR_LENGTH, `must be at most ${MAX_VARCHAR_LENGTH}`).optional(),
});
export type NewFieldInput = z.infer<typeof newFieldInputSchema>;

/** A path inside the volume: relative, no `..`, and not a URL (object-store sources are not merge sources here). */
const mergeDataPathSchema = dataPathSchema.refine(
  (p) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p),
  "must be a path inside the volume or stage, not a URL (upload the file with VolumeFiles and pass its path)",
);

/** Every field checked on its own; the rules between fields are in mergeCrossFieldFailures. */
export const mergeJobInputsSchema = z.object({
  clusterId: nameSchema.optional(),
  dbName: z.string().min(1, "must not be empty; leave it out for the default database").optional(),
  collectionName: nameSchema.optional(),
  destDbName: z.string().min(1, "must not be empty; leave it out for dbName").optional(),
  destCollectionName: nameSchema.optional(),
  mergeField: nameSchema.optional(),
  newFields: z.array(newFieldInputSchema).optional(),
  volumeName: stageNameSchema.optional(),
  stageName: stageNameSchema.optional(),
  dataPath: mergeDataPathSchema.optional(),
  waitForCompletion: z.boolean().optional(),
  timeoutSeconds: z.number().int().min(1, "must be at least 1").max(7 * 24 * 3600, "must be at most a week (604800)").optional(),
  connection: connectionInputSchema.optional(),
});
export type MergeJobInputs = z.infer<typeof mergeJobInputsSchema>;

const given = (v: unknown) => v !== undefined && v !== null && v !== "";

/**
 * The rules between fields, each naming the field to fix and how. A value
 * unknown during preview counts as given, so preview never refuses what
 * `up` would accept.
 */
export function mergeCrossFieldFailures(news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const add = (property: string, reason: string) => failures.push({ property, reason: `${property} ${reason}` });
  const required: Array<[string, string]> = [
    ["clusterId", "the cluster that holds the collection, e.g. in01-0123456789abcdef"],
    ["collectionName", "the collection to merge new fields into"],
    ["destCollectionName", "the name of the new collection the merge creates (it must not exist yet)"],
    ["mergeField", "the field both the collection and the Parquet rows have, usually the primary key"],
  ];
  for (const [name, what] of required) if (!given(news[name])) add(name, `is required: ${what}`);

  const mergeField = news.mergeField;
  const fields = news.newFields;
  if (!isUnknown(fields)) {
    if (!Array.isArray(fields) || fields.length === 0) {
      add("newFields", 'must name at least one field, e.g. [{ fieldName: "genre", dataType: "VARCHAR", maxLength: 64 }]');
    } else {
      const seen = new Set<string>();
      fields.forEach((f: Partial<NewFieldInput> | null, i) => {
        if (!f || typeof f !== "object") return;
        const at = `newFields[${i}]`;
        // Known at up: nothing to say about a name or type preview cannot see.
        if (isUnknown(f.fieldName) || isUnknown(f.dataType) || isUnknown(f.maxLength)) return;
        if (f.fieldName === undefined || f.fieldName === "") add(`${at}.fieldName`, "must not be empty");
        else if (seen.has(f.fieldName)) add(`${at}.fieldName`, `${JSON.stringify(f.fieldName)} is given twice: each new field needs its own name`);
        else if (f.fieldName === mergeField) {
          add(`${at}.fieldName`, `${JSON.stringify(f.fieldName)} is the mergeField: the join key is already in the collection; name only fields to add`);
        }
        if (f.fieldName) seen.add(f.fieldName);
        if (f.dataType === "VARCHAR" && f.maxLength === undefined) add(`${at}.maxLength`, "is required for a VARCHAR field (the longest value, up to 65535)");
        if (f.dataType !== undefined && f.dataType !== "VARCHAR" && f.maxLength !== undefined) {
          add(`${at}.maxLength`, `applies only to VARCHAR fields, not ${f.dataType}: leave it out`);
        }
      });
    }
  }

  const [volume, stage, dataPath] = [given(news.volumeName), given(news.stageName), given(news.dataPath)];
  if (volume && stage) add("stageName", "must not be given together with volumeName: merge from a volume or from a stage, not both");
  else if ((volume || stage) && !dataPath) add("dataPath", "is required with a source: the Parquet file or folder in the volume, e.g. files.dataPaths[0][0]");
  else if (!volume && !stage && dataPath) add("volumeName", "is required with dataPath: the volume the Parquet file is in (or stageName for a stage)");

  const sameDb = (news.destDbName ?? news.dbName ?? DEFAULT_DB) === (news.dbName ?? DEFAULT_DB);
  if (given(news.destCollectionName) && news.destCollectionName === news.collectionName && sameDb && !isUnknown(news.destCollectionName)) {
    add("destCollectionName", "must differ from collectionName: a merge creates a new collection and leaves the source as it is");
  }
  return failures;
}

/** Where the Parquet rows come from, in words: `volume raw`, `stage raw`, or undefined for none. */
export function mergeSourceOf(inputs: Pick<MergeJobInputs, "volumeName" | "stageName">): { kind: "volume" | "stage"; name: string } | undefined {
  if (inputs.volumeName) return { kind: "volume", name: inputs.volumeName };
  if (inputs.stageName) return { kind: "stage", name: inputs.stageName };
  return undefined;
}

/** The wire request for checked inputs. */
export function mergeRequestFor(inputs: MergeJobInputs): MergeInput {
  const source = mergeSourceOf(inputs);
  return {
    clusterId: inputs.clusterId!,
    dbName: inputs.dbName ?? DEFAULT_DB,
    collectionName: inputs.collectionName!,
    destDbName: inputs.destDbName ?? inputs.dbName ?? DEFAULT_DB,
    destCollectionName: inputs.destCollectionName!,
    mergeField: inputs.mergeField!,
    newFields: (inputs.newFields ?? []).map((f) => ({
      fieldName: f.fieldName,
      dataType: f.dataType,
      ...(f.maxLength !== undefined ? { params: { maxLength: f.maxLength } } : {}),
    })),
    ...(source
      ? { dataSource: { type: source.kind, ...(source.kind === "volume" ? { volumeName: source.name } : { stageName: source.name }), dataPath: inputs.dataPath! } }
      : {}),
  };
}

/** What a MergeJob keeps in the state: what it merged (to tell a change) and the job's last report. */
export interface MergeJobOutputs {
  clusterId: string;
  dbName: string;
  collectionName: string;
  destDbName: string;
  destCollectionName: string;
  mergeField: string;
  newFields: NewFieldInput[];
  volumeName?: string;
  stageName?: string;
  dataPath?: string;
  waitForCompletion: boolean;
  timeoutSeconds: number;
  jobId: string;
  status: string;
  progress: number;
  startTime: string;
  endTime: string;
  reason: string;
  connection?: MergeJobInputs["connection"];
}

/** The inputs whose change means a different merge: a new job (replace). */
export const MERGE_DEFINING_INPUTS = [
  "clusterId",
  "dbName",
  "collectionName",
  "destDbName",
  "destCollectionName",
  "mergeField",
  "volumeName",
  "stageName",
  "dataPath",
] as const;

/** Only defined values: `undefined` cannot cross the engine's wire. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The state for `inputs` with the job's latest report (or none yet). */
export function mergeOutputsFor(inputs: MergeJobInputs, jobId: string, report?: Partial<Pick<JobReport, "progress" | "startTime" | "endTime" | "reason">> & { status?: string }): MergeJobOutputs {
  const req = mergeRequestFor(inputs);
  return defined({
    clusterId: req.clusterId,
    dbName: req.dbName!,
    collectionName: req.collectionName,
    destDbName: req.destDbName!,
    destCollectionName: req.destCollectionName,
    mergeField: req.mergeField,
    newFields: (inputs.newFields ?? []).map((f) => defined({ ...f })),
    volumeName: inputs.volumeName,
    stageName: inputs.volumeName ? undefined : inputs.stageName,
    dataPath: inputs.dataPath,
    waitForCompletion: inputs.waitForCompletion ?? true,
    timeoutSeconds: inputs.timeoutSeconds ?? DEFAULT_MERGE_TIMEOUT_SECONDS,
    jobId,
    status: report?.status ?? "PENDING",
    progress: report?.progress ?? 0,
    startTime: report?.startTime ?? "",
    endTime: report?.endTime ?? "",
    reason: report?.reason ?? "",
    connection: inputs.connection,
  });
}


/** Canonical text of the new fields, to tell a change. */
export function newFieldsKey(fields: readonly Partial<NewFieldInput>[] | undefined): string {
  return JSON.stringify((fields ?? []).map((f) => [f.fieldName, f.dataType, f.maxLength ?? null]));
}
