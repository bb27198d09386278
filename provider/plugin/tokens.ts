/**
 * The package's name and type tokens, and which controller each token runs.
 * One table, read by the native provider (dispatch) and the schema (what it
 * declares), so a resource cannot be served without being declared.
 */
import type { ProviderKind } from "../resources/runtime";

/** The plugin's name: `pulumi-resource-zillizcloud`, config `zillizcloud:*`, tokens `zillizcloud:index:*`. */
export const PACKAGE_NAME = "zillizcloud";

/** Each resource's type name, the controller behind it (resources/runtime.ts), and its secret outputs. */
export const RESOURCES = [
  { type: "Volume", kind: "volume" },
  { type: "VolumeFiles", kind: "volumeFiles" },
  { type: "Stage", kind: "stage" },
  { type: "StagedFiles", kind: "stagedFiles" },
  { type: "ImportJob", kind: "importJob" },
  { type: "MergeJob", kind: "mergeJob" },
] as const satisfies readonly { type: string; kind: ProviderKind }[];

/**
 * Properties that carry a key (the API key in `connection`, an ImportJob's
 * bucket keys) or a digest of one: marked secret on the wire, inputs and
 * outputs alike, and in the schema.
 */
export const SECRET_OUTPUTS = ["connection", "accessKey", "secretKey", "credentialsDigest"] as const;

export type ResourceType = (typeof RESOURCES)[number]["type"];
/** The controllers the plugin serves: every one the dynamic resources have. */
export type PluginKind = (typeof RESOURCES)[number]["kind"];

export function tokenOf(type: string): string {
  return `${PACKAGE_NAME}:index:${type}`;
}

/**
 * The controller for a resource's URN (`urn:pulumi:stack::project::parent$type::name`),
 * or undefined for a type this package does not have.
 */
export function kindOfUrn(urn: string): PluginKind | undefined {
  const qualifiedType = urn.split("::")[2] ?? "";
  const token = qualifiedType.split("$").pop();
  return RESOURCES.find((r) => tokenOf(r.type) === token)?.kind;
}
