/**
 * The CRUD logic behind `Volume`. Only a volume's `description` can be
 * edited once created (`PATCH /v2/volumes/{name}`, an update in place);
 * every other input that reaches the service replaces it; `connection` and
 * `adopt` only change how this package talks to it. Runs inside the
 * dynamic-provider process, loaded at call time by the serialized shim.
 */
import type * as pulumi from "@pulumi/pulumi";
import { VolumeDescription, volumeSettingsProblem } from "../client";
import { ZillizValidationError } from "../errors";
import { createOrAdopt, Difference } from "./adopt";
import { connectionChanged } from "./connection";
import { checkProperties, CheckFailure, isUnknown, onePerProperty, unknownInputFailures, VolumeInputs, volumeInputsSchema } from "./inputs";
import { ProviderContext } from "./provider-context";

/** What a Volume keeps in the state; `connection` only when given (a secret output). */
export interface VolumeOutputs {
  projectId: string;
  regionId: string;
  volumeName: string;
  type: "MANAGED" | "EXTERNAL";
  storageIntegrationId?: string;
  path?: string;
  /** As the service reports it. */
  status: string;
  /** ISO-8601, as the service reports it. */
  createTime: string;
  /** Absent when empty; state written before descriptions existed has none. */
  description?: string;
  connection?: VolumeInputs["connection"];
}

const REPLACING_INPUTS = ["projectId", "regionId", "volumeName", "type", "storageIntegrationId", "path"] as const;

/** The settings as the service keeps them: MANAGED by default, no empty strings. */
function settingsOf(v: Partial<Pick<VolumeOutputs, (typeof REPLACING_INPUTS)[number]>>): Record<(typeof REPLACING_INPUTS)[number], string | undefined> {
  return {
    projectId: v.projectId,
    regionId: v.regionId,
    volumeName: v.volumeName,
    type: v.type ?? "MANAGED",
    storageIntegrationId: v.storageIntegrationId || undefined,
    path: v.path || undefined,
  };
}

/** The description as the service keeps it: "" and absent are the same. */
const descriptionOf = (v: { description?: string | null }) => v.description ?? "";

function outputsOf(inputs: VolumeInputs, described: VolumeDescription | undefined): VolumeOutputs {
  const s = settingsOf(inputs);
  const outs: VolumeOutputs = {
    projectId: inputs.projectId,
    regionId: inputs.regionId,
    volumeName: inputs.volumeName,
    type: inputs.type ?? "MANAGED",
    status: described?.status ?? "",
    createTime: described?.createTime ?? "",
  };
  if (s.storageIntegrationId) outs.storageIntegrationId = s.storageIntegrationId;
  if (s.path) outs.path = s.path;
  if (inputs.description) outs.description = inputs.description;
  if (inputs.connection) outs.connection = inputs.connection;
  return outs;
}

/** The rules between type, storageIntegrationId and path, once all three are known. */
function settingsFailures(news: Record<string, unknown>): CheckFailure[] {
  if (["type", "storageIntegrationId", "path"].some((k) => isUnknown(news[k]))) return [];
  const problem = volumeSettingsProblem(news);
  return problem ? [{ property: problem.field, reason: `${problem.field} ${problem.reason}` }] : [];
}

export function volumeProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  return {
    async configure(req) {
      context.configure(req);
    },

    async check(_olds, news) {
      const failures = checkProperties(volumeInputsSchema, news);
      if (failures.length === 0) failures.push(...settingsFailures(news));
      // Outputs the class seeds as undefined arrive with the inputs.
      failures.unshift(...unknownInputFailures("Volume", volumeInputsSchema, news, ["status", "createTime"]));
      return { inputs: news, failures: onePerProperty(failures) };
    },

    async diff(_id, olds: VolumeOutputs, news: VolumeInputs) {
      const before = settingsOf(olds);
      const after = settingsOf(news);
      const replaces = REPLACING_INPUTS.filter((k) => isUnknown(news[k]) || before[k] !== after[k]);
      const reconnected = isUnknown(news.connection) || connectionChanged(olds.connection, news.connection);
      // Changed in place by PATCH: an update, never a replacement.
      const redescribed = isUnknown(news.description) || descriptionOf(olds) !== descriptionOf(news);
      return {
        changes: replaces.length > 0 || reconnected || redescribed,
        replaces,
        // Names are unique: a replacement that keeps the name deletes the old volume first.
        deleteBeforeReplace: replaces.length > 0 && !replaces.includes("volumeName"),
      };
    },

    async create(inputs: VolumeInputs) {
      // check refuses these first; this guards a create whose inputs were unknown at check.
      const problem = volumeSettingsProblem(inputs);
      if (problem) throw new ZillizValidationError(problem.field, problem.reason);
      const client = context.client(inputs.connection);
      const wanted = settingsOf(inputs);
      const adopted = await createOrAdopt({
        noun: "volume",
        resource: "Volume",
        nameField: "volumeName",
        name: inputs.volumeName,
        projectId: inputs.projectId,
        adopt: inputs.adopt === true,
        // Looked up in the project's own list: describe is not scoped to a
        // project, and adopting another project's volume would let destroy delete it.
        find: async () => {
          for await (const v of client.volumes({ projectId: inputs.projectId })) if (v.volumeName === inputs.volumeName) return v;
          return undefined;
        },
        differences: (found) => {
          const have = settingsOf({ ...inputs, ...found, type: found.type as VolumeOutputs["type"] } as VolumeOutputs);
          return (["regionId", "type", "storageIntegrationId", "path"] as const)
            .filter((k) => have[k] !== wanted[k])
            .map((k): Difference => ({ field: k, wanted: wanted[k], found: have[k] }));
        },
        create: async () => {
          const { projectId, regionId, volumeName, type, storageIntegrationId, path, description } = inputs;
          await client.createVolume({ projectId, regionId, volumeName, type, storageIntegrationId, path, ...(description ? { description } : {}) });
        },
      });
      // An adopted volume takes the program's description: it is the one setting that changes in place.
      const described =
        adopted && descriptionOf(adopted) !== descriptionOf(inputs)
          ? await client.updateVolume(inputs.volumeName, descriptionOf(inputs))
          : (adopted ?? (await client.describeVolume(inputs.volumeName)));
      return { id: inputs.volumeName, outs: outputsOf(inputs, described) };
    },

    async read(id, props?: Partial<VolumeOutputs>) {
      const found = await context.client(props?.connection).describeVolume(id);
      if (!found) return {}; // gone out of band: the resource leaves the state
      const outs: Record<string, unknown> = {
        ...props,
        volumeName: found.volumeName,
        status: found.status ?? props?.status ?? "",
        createTime: found.createTime ?? props?.createTime ?? "",
      };
      if (found.regionId) outs.regionId = found.regionId;
      if (found.type) outs.type = found.type;
      for (const k of ["storageIntegrationId", "path", "description"] as const) {
        if (found[k]) outs[k] = found[k];
        else delete outs[k];
      }
      return { id, props: outs };
    },

    async update(_id, olds: VolumeOutputs, news: VolumeInputs) {
      // Only `description` (in place), `connection` and `adopt` change without a replacement.
      if (descriptionOf(olds) !== descriptionOf(news)) {
        const described = await context.client(news.connection).updateVolume(olds.volumeName, descriptionOf(news));
        return { outs: outputsOf(news, described) };
      }
      return { outs: outputsOf(news, { volumeName: olds.volumeName, status: olds.status, createTime: olds.createTime }) };
    },

    async delete(id, props: VolumeOutputs) {
      // A volume that is already gone is a successful delete.
      await context.client(props.connection).deleteVolume(id);
    },
  };
}
