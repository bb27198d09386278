/**
 * The provider implementations as the dynamic-provider process loads them,
 * by package name (`pulumi-zilliz-stages/runtime`), at call time. Keeping
 * them out of the serialized shim keeps the state small and lets a package
 * upgrade fix `read` and `delete` of resources created by older versions.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ProviderContext } from "./provider-context";
import { stageProvider } from "./stage-provider";
import { stagedFilesProvider } from "./staged-files-provider";

export type ProviderKind = "stage" | "stagedFiles";

/** A fresh provider with its own context (config, clients). */
export function createProvider(kind: ProviderKind, context = new ProviderContext()): pulumi.dynamic.ResourceProvider {
  switch (kind) {
    case "stage":
      return stageProvider(context);
    case "stagedFiles":
      return stagedFilesProvider(context);
  }
}

/**
 * The provider process's instances. The engine configures a provider once
 * and then calls it many times in the same process, and the serialized shim
 * cannot hold state between calls (the SDK re-creates captured variables on
 * every call), so the one instance per kind lives here, in the module cache.
 */
const instances = new Map<ProviderKind, pulumi.dynamic.ResourceProvider>();

export function providerFor(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  let provider = instances.get(kind);
  if (!provider) {
    provider = createProvider(kind);
    instances.set(kind, provider);
  }
  return provider;
}
