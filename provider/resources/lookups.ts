/**
 * Looking things up without managing them: a project's volumes (type,
 * status, description) and stages, and one volume by name. The package's
 * functions `getVolume`, `getVolumes` and `getStages` run these, and
 * TypeScript programs call them as plain async functions, so a program can
 * refer to a volume it does not manage.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { stageNameSchema } from "../client/schemas";
import { VOLUME_TYPES, volumeNameSchema } from "../client/volume-schemas";
import { ZillizValidationError } from "../errors";
import { CONFIG_API_KEY, CONFIG_ENDPOINT, connectionInputSchema } from "./connection";
import { checkProperties } from "./inputs";
import { ProviderContext } from "./provider-context";

const projectIdSchema = z.string().min(1, "must be a Zilliz Cloud project ID such as proj-xxxxxxxx");

export const getVolumeArgsSchema = z.object({ volumeName: volumeNameSchema, connection: connectionInputSchema.optional() });
export const getVolumesArgsSchema = z.object({
  projectId: projectIdSchema,
  type: z.enum(VOLUME_TYPES).optional(),
  connection: connectionInputSchema.optional(),
});
export const getStagesArgsSchema = z.object({ projectId: projectIdSchema, connection: connectionInputSchema.optional() });

export type GetVolumeArgs = z.infer<typeof getVolumeArgsSchema>;
export type GetVolumesArgs = z.infer<typeof getVolumesArgsSchema>;
export type GetStagesArgs = z.infer<typeof getStagesArgsSchema>;

/** A volume as a lookup returns it; settings it lacks are absent. */
export interface VolumeInfo {
  volumeName: string;
  type?: string;
  regionId?: string;
  storageIntegrationId?: string;
  path?: string;
  status?: string;
  createTime?: string;
  description?: string;
}

export interface StageInfo {
  stageName: string;
}

function validated<T>(schema: z.ZodObject, args: unknown, fn: string): T {
  const failures = checkProperties(schema, (args ?? {}) as Record<string, unknown>);
  if (failures.length > 0) throw new ZillizValidationError(failures[0].property, `${fn}: ${failures.map((f) => f.reason).join("; ")}`);
  return args as T;
}

function volumeInfo(v: Record<string, unknown>): VolumeInfo {
  const info: VolumeInfo = { volumeName: String(v.volumeName) };
  for (const k of ["type", "regionId", "storageIntegrationId", "path", "status", "createTime", "description"] as const) {
    if (typeof v[k] === "string" && v[k] !== "") info[k] = v[k];
  }
  return info;
}

/** The lookups, each on a provider context (its config and clients). */
export const LOOKUPS = {
  async getVolume(context: ProviderContext, raw: unknown): Promise<{ volume?: VolumeInfo; found: boolean }> {
    const args = validated<GetVolumeArgs>(getVolumeArgsSchema, raw, "getVolume");
    const found = await context.client(args.connection).describeVolume(args.volumeName);
    return found ? { volume: volumeInfo(found), found: true } : { found: false };
  },
  async getVolumes(context: ProviderContext, raw: unknown): Promise<{ volumes: VolumeInfo[] }> {
    const args = validated<GetVolumesArgs>(getVolumesArgsSchema, raw, "getVolumes");
    const volumes: VolumeInfo[] = [];
    for await (const v of context.client(args.connection).volumes({ projectId: args.projectId, type: args.type })) volumes.push(volumeInfo(v));
    return { volumes };
  },
  async getStages(context: ProviderContext, raw: unknown): Promise<{ stages: StageInfo[] }> {
    const args = validated<GetStagesArgs>(getStagesArgsSchema, raw, "getStages");
    const stages: StageInfo[] = [];
    for await (const s of context.client(args.connection).stages({ projectId: args.projectId })) stages.push({ stageName: stageNameSchema.parse(s.stageName) });
    return { stages };
  },
};

export type LookupName = keyof typeof LOOKUPS;

/**
 * A context for a program's own calls: the stack's `zillizcloud:*` config
 * when the program runs under Pulumi, then the environment.
 */
function programContext(): ProviderContext {
  const context = new ProviderContext(process.env);
  let config: { get(key: string): string | undefined } = { get: () => undefined };
  try {
    const stack = new pulumi.Config("zillizcloud");
    config = { get: (key) => (key === CONFIG_API_KEY ? stack.get("apiKey") : key === CONFIG_ENDPOINT ? stack.get("endpoint") : undefined) };
  } catch {
    // No readable stack config: the environment (or `connection`) must say.
  }
  context.configure({ config } as never);
  return context;
}

async function withProgramContext<T>(run: (context: ProviderContext) => Promise<T>): Promise<T> {
  const context = programContext();
  try {
    return await run(context);
  } finally {
    await context.close();
  }
}

/** The volume of that name, or undefined when there is none. */
export async function getVolume(args: GetVolumeArgs): Promise<VolumeInfo | undefined> {
  return withProgramContext(async (c) => (await LOOKUPS.getVolume(c, args)).volume);
}

/** Every volume of the project (of one type when `type` is given). */
export async function getVolumes(args: GetVolumesArgs): Promise<VolumeInfo[]> {
  return withProgramContext(async (c) => (await LOOKUPS.getVolumes(c, args)).volumes);
}

/** Every stage of the project. */
export async function getStages(args: GetStagesArgs): Promise<StageInfo[]> {
  return withProgramContext(async (c) => (await LOOKUPS.getStages(c, args)).stages);
}
