/**
 * The provider implementations as the dynamic-provider process loads them,
 * by package name (`pulumi-zilliz-stages/runtime`), at call time. Keeping
 * them out of the serialized shim keeps the state small and lets a package
 * upgrade fix `read` and `delete` of resources created by older versions.
 */
// First: it caches the compilation of every module loaded after it.
import "../compile-cache";
import type * as pulumi from "@pulumi/pulumi";
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

export function providerFor(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  let provider = instances.get(kind);
  if (!provider) {
    if (!shutdown) {
      shutdown = new ShutdownGuard();
      shutdown.arm();
    }
    provider = createProvider(kind, new ProviderContext(process.env, PROCESS_REQUEST_LIMIT, {}, shutdown));
    instances.set(kind, provider);
  }
  return provider;
}
