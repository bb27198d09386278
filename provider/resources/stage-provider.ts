/**
 * The CRUD logic behind `Stage`. Runs inside the dynamic-provider process,
 * loaded at call time by the serialized shim (see provider-shim.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createOrAdopt } from "./adopt";
import { connectionChanged } from "./connection";
import { checkProperties, isUnknown, onePerProperty, stageInputsSchema, StageInputs, unknownInputFailures } from "./inputs";
import { ProviderContext } from "./provider-context";

/**
 * What a Stage keeps in the state. `connection` is there only when the
 * program passed one (delete and refresh need it); the resource marks it a
 * secret output, so the state holds it encrypted.
 */
export interface StageOutputs {
  projectId: string;
  regionId: string;
  stageName: string;
  connection?: StageInputs["connection"];
}

const REPLACING_INPUTS = ["projectId", "regionId", "stageName"] as const;

function outputsOf(inputs: StageInputs): StageOutputs {
  const outs: StageOutputs = { projectId: inputs.projectId, regionId: inputs.regionId, stageName: inputs.stageName };
  if (inputs.connection) outs.connection = inputs.connection;
  return outs;
}

export function stageProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  return {
    async configure(req) {
      context.configure(req);
    },

    async check(_olds, news) {
      const failures = [...unknownInputFailures("Stage", stageInputsSchema, news), ...checkProperties(stageInputsSchema, news)];
      return { inputs: news, failures: onePerProperty(failures) };
    },

    async diff(_id, olds: StageOutputs, news: StageInputs) {
      const replaces = REPLACING_INPUTS.filter((k) => !isUnknown(news[k]) && olds[k] !== news[k]);
      const unknown = REPLACING_INPUTS.filter((k) => isUnknown(news[k]));
      // The service refuses a second stage with the same name, so a
      // replacement that keeps the name must delete the old one first.
      const sameName = olds.stageName === news.stageName;
      const reconnected = isUnknown(news.connection) || connectionChanged(olds.connection, news.connection);
      return {
        changes: replaces.length > 0 || unknown.length > 0 || reconnected,
        replaces: [...replaces, ...unknown],
        deleteBeforeReplace: sameName && replaces.length > 0,
      };
    },

    async create(inputs: StageInputs) {
      const client = context.client(inputs.connection);
      const { projectId, regionId, stageName } = inputs;
      await createOrAdopt({
        noun: "stage",
        resource: "Stage",
        nameField: "stageName",
        name: stageName,
        projectId,
        adopt: inputs.adopt === true,
        // Stages have no describe: the project's list is what shows one.
        find: () => client.findStage(projectId, stageName),
        // A list item shows only the name: found in this project is a match.
        differences: () => [],
        create: async () => {
          await client.createStage({ projectId, regionId, stageName });
        },
      });
      return { id: stageName, outs: outputsOf(inputs) };
    },

    async read(id, props?: Partial<StageOutputs>) {
      const projectId = props?.projectId;
      if (!projectId) {
        // Without a project the stage cannot be looked up; keep what we have.
        return { id, props: props ?? {} };
      }
      const found = await context.client(props?.connection).findStage(projectId, id);
      if (!found) return {}; // gone out of band: the resource leaves the state
      return { id, props: { ...props, projectId, stageName: found.stageName } };
    },

    async update(_id, _olds: StageOutputs, news: StageInputs) {
      // Only `connection` changes without a replacement: the stored value follows it.
      return { outs: outputsOf(news) };
    },

    async delete(id, props: StageOutputs) {
      // A stage that is already gone is a successful delete.
      await context.client(props.connection).deleteStage(id);
    },
  };
}
