/**
 * The provider implementations as the dynamic-provider process loads them,
 * by package name (`pulumi-zilliz-stages/runtime`), at call time. Keeping
 * them out of the serialized shim keeps the state small and lets a package
 * upgrade fix `read` and `delete` of resources created by older versions.
 */
// First: it caches the compilation of every module loaded after it.
import "../compile-cache";
import "../young-generation";
import "../protobuf-strings";
import { AsyncLocalStorage } from "node:async_hooks";
import type * as pulumi from "@pulumi/pulumi";
import { type EngineLog, engineLog } from "../engine-log";
import { importJobProvider } from "./import-job-provider";
import { mergeJobProvider } from "./merge-job-provider";
import { PROCESS_REQUEST_LIMIT, ProviderContext } from "./provider-context";
import { ShutdownGuard } from "./shutdown";
import { stageProvider } from "./stage-provider";
import { stagedFilesProvider } from "./staged-files-provider";
import { volumeFilesProvider } from "./volume-files-provider";
import { volumeProvider } from "./volume-provider";

export type ProviderKind = "stage" | "stagedFiles" | "volume" | "volumeFiles" | "importJob" | "mergeJob";

/** A fresh provider with its own context (config, clients). */
export function createProvider(kind: ProviderKind, context = new ProviderContext()): pulumi.dynamic.ResourceProvider {
  switch (kind) {
    case "stage":
      return stageProvider(context);
    case "stagedFiles":
      return stagedFilesProvider(context);
    case "volume":
      return volumeProvider(context);
    case "volumeFiles":
      return volumeFilesProvider(context);
    case "importJob":
      return importJobProvider(context);
    case "mergeJob":
      return mergeJobProvider(context);
  }
}

/**
 * The provider process's instances, one per kind, each with its own context.
 * The SDK keeps one deserialized shim per serialized text and configures it
 * once, but the shim's text can carry no state of its own (what it captured
 * would be serialized into the state), so the instance it forwards to,
 * with its configuration and clients, lives here in the module cache.
 */
const instances = new Map<ProviderKind, pulumi.dynamic.ResourceProvider>();
/**
 * One stop for the whole process: a signal or the engine's exit ends every
 * upload of every kind. Armed on the first call, so only a process that
 * serves the providers handles signals this way.
 */
let shutdown: ShutdownGuard | undefined;

/** The resource a call is for, where its inputs name it (`ownerUrn`), so its lines reach the engine under it. */
const currentUrn = new AsyncLocalStorage<string | undefined>();
/** Set on the first call: the engine's log, when this process is the SDK's dynamic provider. */
let engine: EngineLog | undefined;
let log: ((line: string) => void) | undefined;

/**
 * The engine's address when this process is the SDK's dynamic provider
 * (`node …/cmd/dynamic-provider <engine>`); undefined anywhere else, where
 * lines go to stderr.
 */
export function dynamicProviderEngine(argv: readonly string[] = process.argv): string | undefined {
  const [, script = "", address] = argv;
  return /cmd[/\\]dynamic-provider/.test(script) && address !== undefined && /^[\w.[\]:-]+:\d+$/.test(address) ? address : undefined;
}

function ownerUrnOf(...values: unknown[]): string | undefined {
  for (const v of values) {
    const urn = v !== null && typeof v === "object" ? (v as { ownerUrn?: unknown }).ownerUrn : undefined;
    if (typeof urn === "string") return urn;
  }
  return undefined;
}

/** `provider` with each call run under the URN its inputs carry. */
function underUrn(p: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
  // The call's lines reach the engine before its answer does.
  const on = <T>(urn: string | undefined, work: () => Promise<T>): Promise<T> =>
    currentUrn.run(urn, async () => {
      try {
        return await work();
      } finally {
        await engine?.flush();
      }
    });
  const c = p as Required<pulumi.dynamic.ResourceProvider>;
  return {
    configure: (req) => c.configure(req),
    check: (olds, news) => on(ownerUrnOf(news, olds), () => c.check(olds, news)),
    diff: (id, olds, news) => on(ownerUrnOf(news, olds), () => c.diff(id, olds, news)),
    create: (inputs) => on(ownerUrnOf(inputs), () => c.create(inputs)),
    read: (id, props) => on(ownerUrnOf(props), () => c.read(id, props)),
    update: (id, olds, news) => on(ownerUrnOf(news, olds), () => c.update(id, olds, news)),
    delete: (id, props) => on(ownerUrnOf(props), () => c.delete(id, props)),
  };
}

export function providerFor(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  let provider = instances.get(kind);
  if (!provider) {
    if (!shutdown) {
      shutdown = new ShutdownGuard();
      shutdown.arm();
      const address = dynamicProviderEngine();
      if (address) {
        const emit = (engine = engineLog(address));
        log = (line) => emit(line, currentUrn.getStore());
      }
    }
    provider = underUrn(createProvider(kind, new ProviderContext(process.env, PROCESS_REQUEST_LIMIT, { log }, shutdown)));
    instances.set(kind, provider);
  }
  return provider;
}
