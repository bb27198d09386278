/**
 * The second door onto the resources: the native provider interface of
 * `@pulumi/pulumi/provider`, served as the `zillizcloud` plugin, mapped onto
 * the same controllers the dynamic resources run (resources/runtime.ts
 * `createProvider`). Nothing here decides what a resource does; it only
 * translates the protocol: type tokens to controllers, wrapped secrets and
 * output values to plain values and back, a partial failure's properties,
 * and every message to the resource being worked on.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import type { EngineLog } from "../engine-log";
import { ZillizValidationError } from "../errors";
import { manifestPaths } from "../upload/manifest-codec";
import { decodeChanged } from "../resources/changed-files";
import { CONFIG_API_KEY, CONFIG_ENDPOINT } from "../resources/connection";
import { UNKNOWN } from "../resources/inputs";
import { PROCESS_REQUEST_LIMIT, ProviderContext } from "../resources/provider-context";
import { createProvider } from "../resources/runtime";
import { ShutdownGuard } from "../resources/shutdown";
import { readForImport } from "./import-read";
import { kindOfUrn, PACKAGE_NAME, type PluginKind, SECRET_OUTPUTS } from "./tokens";
import { unwrap, withSecrets } from "./wire";

/** The package's config as the engine hands it over (`apiKey`, `endpoint`, without the namespace). */
export type PackageConfig = Readonly<Record<string, string | undefined>>;

export interface NativeProviderOptions {
  /** The package's version, reported to the engine. */
  version: string;
  /** The `zillizcloud:*` config; the engine passes it to the plugin when it starts it. */
  config?: PackageConfig;
  /** Where the controllers read `ZILLIZCLOUD_*` from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where messages go; `urn` is the resource the call is about, when there is one. Default stderr. */
  log?: (line: string, urn?: string) => void;
  /** The schema, printed by `pulumi package get-schema` and read by `pulumi package add`. */
  getSchema?: () => Promise<string>;
  /** Functions (invokes) by token. */
  invoke?: (token: string, args: Record<string, unknown>, context: ProviderContext) => Promise<unknown>;
  /** The process's stop; the plugin's entry arms it. */
  shutdown?: ShutdownGuard;
  progressEveryMs?: number;
}

const FILE_KINDS: ReadonlySet<PluginKind> = new Set(["volumeFiles", "stagedFiles"]);
/** Outputs of VolumeFiles and StagedFiles that the dynamic resource class derives in the program; here they are real outputs. */
const DERIVED_FILE_OUTPUTS = ["files", "dataPaths", "changedDataPaths"] as const;
/** The dynamic provider's own bookkeeping, meaningless to a native resource. */
const DYNAMIC_PROVIDER_KEY = "__provider";

/** Outputs as a native resource shows them: derived file lists added, secrets wrapped. */
function present(kind: PluginKind, outs: Record<string, unknown> | undefined): Record<string, unknown> {
  // `undefined` cannot cross the wire.
  const props: Record<string, unknown> = Object.fromEntries(Object.entries(outs ?? {}).filter(([, v]) => v !== undefined));
  delete props[DYNAMIC_PROVIDER_KEY];
  if (FILE_KINDS.has(kind) && typeof props.manifest === "string") {
    const base = typeof props.path === "string" ? props.path : "";
    const rels = manifestPaths(props.manifest);
    props.files = rels.map((rel) => base + rel);
    props.dataPaths = rels.map((rel) => [base + rel]);
    props.changedDataPaths = decodeChanged(typeof props.changed === "string" ? props.changed : "", rels).map((rel) => [base + rel]);
  }
  return withSecrets(props, SECRET_OUTPUTS);
}

/** Recorded outputs as the controllers expect them: plain values, nothing they did not write. */
function recorded(kind: PluginKind, props: unknown): Record<string, unknown> {
  const plain = { ...((unwrap(props) as Record<string, unknown> | undefined) ?? {}) };
  if (FILE_KINDS.has(kind)) for (const k of DERIVED_FILE_OUTPUTS) delete plain[k];
  return plain;
}

/** Checked inputs keep a secret connection secret in the state's inputs too. */
function checkedInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  const secretKeys = SECRET_OUTPUTS.filter((k) => inputs[k] !== UNKNOWN);
  return withSecrets(inputs, secretKeys);
}

/**
 * A partial failure from a controller (an error with `id` and `properties`)
 * keeps its shape, which the provider server turns into the engine's
 * ErrorResourceInitFailed; only the properties are translated.
 */
function translateFailure(kind: PluginKind, err: unknown): unknown {
  if (err instanceof Error && "id" in err && "properties" in err) {
    const failed = err as Error & { properties?: Record<string, unknown> };
    failed.properties = present(kind, failed.properties);
  }
  return err;
}

export function nativeProvider(options: NativeProviderOptions): provider.Provider {
  const env = options.env ?? process.env;
  const shutdown = options.shutdown ?? new ShutdownGuard();
  const emit = options.log ?? ((line: string) => console.error(line));
  /** The URN of the call being served, so a controller's lines reach the engine under its resource. */
  const currentUrn = new AsyncLocalStorage<string>();
  const log = (line: string) => emit(line, currentUrn.getStore());
  const config = options.config ?? {};
  const settings = new Map([
    [CONFIG_API_KEY, config.apiKey],
    [CONFIG_ENDPOINT, config.endpoint],
  ]);
  const configure: pulumi.dynamic.ConfigureRequest = {
    config: { get: (key: string) => settings.get(key) || undefined } as unknown as pulumi.Config,
  };
  // One context per kind, as the dynamic provider process keeps them (runtime.ts).
  const contexts = new Map<PluginKind, { context: ProviderContext; controller: Required<pulumi.dynamic.ResourceProvider> }>();
  let functionContext: ProviderContext | undefined;

  function newContext(): ProviderContext {
    const context = new ProviderContext(env, PROCESS_REQUEST_LIMIT, { log, progressEveryMs: options.progressEveryMs }, shutdown);
    context.configure(configure);
    return context;
  }

  function controllerFor(urn: string): { kind: PluginKind; controller: Required<pulumi.dynamic.ResourceProvider>; context: ProviderContext } {
    const kind = kindOfUrn(urn);
    if (!kind) {
      throw new ZillizValidationError("type", `${urn} is not a resource of the ${PACKAGE_NAME} package: it has Volume, VolumeFiles, Stage, StagedFiles and ImportJob`);
    }
    let entry = contexts.get(kind);
    if (!entry) {
      const context = newContext();
      entry = { context, controller: createProvider(kind, context) as Required<pulumi.dynamic.ResourceProvider> };
      contexts.set(kind, entry);
    }
    return { kind, controller: entry.controller, context: entry.context };
  }

  // The call's lines reach the engine before its answer does (engine-log.ts).
  const engine = options.log && "flush" in options.log ? (options.log as EngineLog) : undefined;
  const on = <T>(urn: string, work: () => Promise<T>): Promise<T> =>
    currentUrn.run(urn, async () => {
      try {
        return await work();
      } finally {
        await engine?.flush();
      }
    });

  return {
    version: options.version,
    getSchema: options.getSchema,

    check: (urn, olds, news) =>
      on(urn, async () => {
        const { kind, controller } = controllerFor(urn);
        const given = unwrap(news) as Record<string, unknown>;
        // The owner's name written with every object (upload/object-metadata.ts): here the engine gives the real URN.
        if (FILE_KINDS.has(kind)) given.ownerUrn = urn;
        const result = await controller.check(recorded(kind, olds), given);
        return { inputs: checkedInputs(result.inputs ?? {}), failures: result.failures ?? [] };
      }),

    diff: (id, urn, olds, news) =>
      on(urn, async () => {
        const { kind, controller } = controllerFor(urn);
        const before = recorded(kind, olds);
        const after = unwrap(news) as Record<string, unknown>;
        // An imported files resource records no source (the service cannot say where the files came from):
        // the program's is taken as the one they came from, and the content comparison decides.
        if (FILE_KINDS.has(kind) && before.source === undefined) before.source = after.source;
        return controller.diff(id, before, after);
      }),

    create: (urn, inputs) =>
      on(urn, async () => {
        const { kind, controller } = controllerFor(urn);
        try {
          const result = await controller.create(unwrap(inputs));
          return { id: result.id, outs: present(kind, result.outs) };
        } catch (err) {
          throw translateFailure(kind, err);
        }
      }),

    read: (id, urn, props) =>
      on(urn, async () => {
        const { kind, controller, context } = controllerFor(urn);
        const known = recorded(kind, props);
        if (Object.keys(known).length === 0) {
          // Nothing recorded: an import, from the id alone.
          const imported = await readForImport(kind, id, context, log);
          if (!imported) return { id: "", props: {} };
          return { id: imported.id, props: present(kind, imported.props), inputs: checkedInputs(imported.inputs) };
        }
        const result = await controller.read(id, known);
        // No id: the resource is gone, and leaves the state.
        if (!result.id) return { id: "", props: {} };
        return { id: result.id, props: present(kind, result.props) };
      }),

    update: (id, urn, olds, news) =>
      on(urn, async () => {
        const { kind, controller } = controllerFor(urn);
        try {
          const result = await controller.update(id, recorded(kind, olds), unwrap(news));
          return { outs: present(kind, result.outs) };
        } catch (err) {
          throw translateFailure(kind, err);
        }
      }),

    delete: (id, urn, props) =>
      on(urn, async () => {
        const { kind, controller } = controllerFor(urn);
        await controller.delete(id, recorded(kind, props));
      }),

    invoke: async (token, args) => {
      if (!options.invoke) throw new ZillizValidationError("token", `${token} is not a function of the ${PACKAGE_NAME} package`);
      functionContext ??= newContext();
      const outputs = await options.invoke(token, unwrap(args) as Record<string, unknown>, functionContext);
      return { outputs };
    },
  };
}
