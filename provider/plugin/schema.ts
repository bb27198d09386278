/**
 * The package schema, generated from the zod schemas the controllers
 * validate with (one source of truth): every input's type and whether it is
 * required come from `z.toJSONSchema`; the words from docs.ts. The committed
 * `schema.json` is this function's output; a test fails when they differ.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { importJobInputsSchema } from "../resources/import-job-inputs";
import { mergeJobInputsSchema, newFieldInputSchema } from "../resources/merge-job-inputs";
import { stagedFilesInputsSchema, stageInputsSchema, volumeFilesInputsSchema, volumeInputsSchema } from "../resources/inputs";
import { getStagesArgsSchema, getVolumeArgsSchema, getVolumesArgsSchema } from "../resources/lookups";
import { COMMON_DOCS, CONFIG_DOCS, FUNCTION_DOCS, NEW_FIELD_DOCS, RESOURCE_DOCS } from "./docs";
import { PACKAGE_NAME, ResourceType, RESOURCES, SECRET_OUTPUTS, tokenOf } from "./tokens";

/** The version of this npm package, found by walking up from here (src or dist). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pulumi-zilliz-stages" && pkg.version) return pkg.version;
    } catch {
      // not here: look in the parent
    }
    if (path.dirname(dir) === dir) return "0.0.0";
  }
}

export const PACKAGE_VERSION = packageVersion();

const CONNECTION_TYPE = tokenOf("Connection");
const VOLUME_INFO_TYPE = tokenOf("VolumeInfo");
const STAGE_INFO_TYPE = tokenOf("StageInfo");
const NEW_FIELD_TYPE = tokenOf("MergeNewField");

type JsonSchema = { type?: string; items?: JsonSchema; properties?: Record<string, JsonSchema>; required?: string[]; enum?: unknown[] };
export type PropertySpec = { type?: string; items?: PropertySpec; $ref?: string; description?: string; secret?: boolean };
type ObjectSpec = { properties: Record<string, PropertySpec>; required?: string[] };

/** One JSON Schema property as a Pulumi schema property. */
function propertyOf(js: JsonSchema, field: string): PropertySpec {
  if (field === "connection") return { $ref: `#/types/${CONNECTION_TYPE}`, secret: true };
  if (field === "newFields" && js.type === "object") return { $ref: `#/types/${NEW_FIELD_TYPE}` };
  switch (js.type) {
    case "string":
    case "integer":
    case "number":
    case "boolean":
      return { type: js.type };
    case "array":
      return { type: "array", items: propertyOf(js.items ?? {}, field) };
    default:
      throw new Error(`schema: ${field} has a JSON Schema type this generator does not map (${JSON.stringify(js)})`);
  }
}

function describe(resource: ResourceType | undefined, field: string, js?: JsonSchema): string {
  const doc = (resource && RESOURCE_DOCS[resource].properties[field]) ?? COMMON_DOCS[field];
  if (!doc) throw new Error(`schema: ${resource ?? "function"}.${field} has no description in provider/plugin/docs.ts`);
  return js?.enum ? `${doc} One of: ${js.enum.join(", ")}.` : doc;
}

/** The properties of a zod object, typed and described. */
function objectOf(schema: z.ZodObject, resource?: ResourceType, docs?: Record<string, string>): ObjectSpec {
  const js = z.toJSONSchema(schema, { io: "input" }) as JsonSchema;
  const properties: Record<string, PropertySpec> = {};
  for (const [field, prop] of Object.entries(js.properties ?? {})) {
    const secret = (SECRET_OUTPUTS as readonly string[]).includes(field) ? { secret: true } : {};
    properties[field] = { ...propertyOf(prop, field), ...secret, description: docs?.[field] ?? describe(resource, field, prop) };
  }
  return js.required?.length ? { properties, required: js.required } : { properties };
}

/** Outputs: the zod schema of what the controller records, with secrets marked. */
function outputsOf(schema: z.ZodObject, resource: ResourceType): ObjectSpec {
  const spec = objectOf(schema, resource);
  for (const k of SECRET_OUTPUTS) if (spec.properties[k]) spec.properties[k].secret = true;
  return spec;
}

const str = z.string();
const int = z.number().int();
const paths = z.array(z.string());

/** What each controller records, as zod objects over the same input fields. */
const filesOutputs = (name: "stageName" | "volumeName") =>
  z.object({
    [name]: str,
    ...stagedFilesInputsSchema.pick({ source: true, sourceEndpoint: true, sourcePathStyle: true, sourceRegion: true, connection: true }).shape,
    path: str,
    deleteRemoved: z.boolean(),
    manifest: str,
    retained: paths,
    fileCount: int,
    totalBytes: z.number(),
    manifestHash: str,
    changed: str,
    changesUnfinished: z.boolean().optional(),
    files: paths,
    dataPaths: z.array(paths),
    changedDataPaths: z.array(paths),
  });

const OUTPUTS: Record<ResourceType, z.ZodObject> = {
  Volume: volumeInputsSchema.omit({ adopt: true }).extend({ type: volumeInputsSchema.shape.type.unwrap(), status: str, createTime: str }),
  Stage: stageInputsSchema.omit({ adopt: true }),
  VolumeFiles: filesOutputs("volumeName"),
  StagedFiles: filesOutputs("stageName"),
  // The keys are never outputs: their digest is.
  ImportJob: importJobInputsSchema.omit({ dataPaths: true, dataPathsPacked: true, objectUrls: true, accessKey: true, secretKey: true }).extend({
    collectionName: str,
    dataPathsHash: str,
    objectUrlsHash: str.optional(),
    credentialsDigest: str.optional(),
    batchCount: int,
    pathCount: int,
    waitForCompletion: z.boolean(),
    timeoutSeconds: int,
    jobId: str,
    state: str,
    progress: z.number(),
    importedRows: z.number(),
    totalRows: z.number(),
    fileSize: z.number(),
    completeTime: str,
    reason: str,
  }),
  MergeJob: mergeJobInputsSchema.extend({
    clusterId: str,
    dbName: str,
    collectionName: str,
    destDbName: str,
    destCollectionName: str,
    mergeField: str,
    newFields: mergeJobInputsSchema.shape.newFields.unwrap(),
    waitForCompletion: z.boolean(),
    timeoutSeconds: int,
    jobId: str,
    status: str,
    progress: z.number(),
    startTime: str,
    endTime: str,
    reason: str,
  }),
};

const INPUTS: Record<ResourceType, z.ZodObject> = {
  Volume: volumeInputsSchema,
  Stage: stageInputsSchema,
  VolumeFiles: volumeFilesInputsSchema,
  StagedFiles: stagedFilesInputsSchema,
  // Packed paths are the TypeScript door's own (packed-data-paths.ts): other languages give dataPaths.
  ImportJob: importJobInputsSchema.omit({ dataPathsPacked: true }),
  MergeJob: mergeJobInputsSchema,
};

const volumeInfo = z.object({
  volumeName: str,
  type: str.optional(),
  regionId: str.optional(),
  storageIntegrationId: str.optional(),
  path: str.optional(),
  status: str.optional(),
  createTime: str.optional(),
  description: str.optional(),
});
const VOLUME_INFO_DOCS = {
  volumeName: "The volume's name.",
  type: "MANAGED or EXTERNAL.",
  regionId: "The cloud region.",
  storageIntegrationId: "EXTERNAL only: the storage integration.",
  path: "EXTERNAL only: the directory of the bucket.",
  status: "As the service reports it.",
  createTime: "When the volume was created (ISO-8601).",
  description: "As the service reports it.",
};
const ref = (token: string, description: string): PropertySpec => ({ $ref: `#/types/${token}`, description });

/** The whole package schema (a JSON object). */
export function packageSchema(): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const { type } of RESOURCES) {
    const inputs = objectOf(INPUTS[type], type);
    const outputs = outputsOf(OUTPUTS[type], type);
    resources[tokenOf(type)] = {
      description: RESOURCE_DOCS[type].description,
      inputProperties: inputs.properties,
      requiredInputs: inputs.required ?? [],
      properties: outputs.properties,
      required: outputs.required ?? [],
    };
  }
  const fn = (schema: z.ZodObject, description: string, outputs: ObjectSpec) => ({
    description,
    inputs: { ...objectOf(schema, undefined, { projectId: COMMON_DOCS.projectId, connection: COMMON_DOCS.connection, volumeName: "The volume's name.", type: "MANAGED or EXTERNAL: only volumes of that type." }) },
    outputs,
  });
  return {
    name: PACKAGE_NAME,
    displayName: "Zilliz Cloud volumes and stages",
    version: PACKAGE_VERSION,
    description: "Zilliz Cloud volumes and stages as code: create them, keep local files in sync (SHA-256), and import them into collections.",
    license: "Apache-2.0",
    // The generators put it where they would otherwise write "Pulumi Corp."
    // (the C# SDK's NuGet authors).
    publisher: "pulumi-zilliz-stages contributors",
    keywords: ["zilliz", "milvus", "vector", "category/database", "kind/native"],
    config: {
      variables: {
        apiKey: { type: "string", secret: true, description: CONFIG_DOCS.apiKey },
        endpoint: { type: "string", description: CONFIG_DOCS.endpoint },
      },
    },
    types: {
      [CONNECTION_TYPE]: {
        type: "object",
        description: COMMON_DOCS.connection,
        properties: {
          endpoint: { type: "string", description: "The control-plane endpoint for this resource." },
          apiKey: { type: "string", secret: true, description: "The API key for this resource." },
        },
      },
      [VOLUME_INFO_TYPE]: { type: "object", description: "A volume as a lookup returns it.", ...objectOf(volumeInfo, undefined, VOLUME_INFO_DOCS) },
      [NEW_FIELD_TYPE]: { type: "object", description: "One field a MergeJob adds.", ...objectOf(newFieldInputSchema, undefined, NEW_FIELD_DOCS) },
      [STAGE_INFO_TYPE]: { type: "object", description: "A stage as a lookup returns it.", properties: { stageName: { type: "string", description: "The stage's name." } }, required: ["stageName"] },
    },
    resources,
    functions: {
      [tokenOf("getVolume")]: fn(getVolumeArgsSchema, FUNCTION_DOCS.getVolume, {
        properties: { volume: ref(VOLUME_INFO_TYPE, "The volume, when found."), found: { type: "boolean", description: "Whether there is such a volume." } },
        required: ["found"],
      }),
      [tokenOf("getVolumes")]: fn(getVolumesArgsSchema, FUNCTION_DOCS.getVolumes, {
        properties: { volumes: { type: "array", items: { $ref: `#/types/${VOLUME_INFO_TYPE}` }, description: "The project's volumes." } },
        required: ["volumes"],
      }),
      [tokenOf("getStages")]: fn(getStagesArgsSchema, FUNCTION_DOCS.getStages, {
        properties: { stages: { type: "array", items: { $ref: `#/types/${STAGE_INFO_TYPE}` }, description: "The project's stages." } },
        required: ["stages"],
      }),
    },
    language: {
      go: { importBasePath: "github.com/pulumi-zilliz-stages/sdk/go/zillizcloud", generateResourceContainerTypes: false },
      nodejs: { packageName: "@pulumi-zilliz-stages/zillizcloud" },
      python: { packageName: "pulumi_zillizcloud" },
      csharp: { rootNamespace: "ZillizStages", packageReferences: { Pulumi: "3.*" } },
    },
  };
}
