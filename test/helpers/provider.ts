import type * as pulumi from "@pulumi/pulumi";
import { createProvider, ProviderKind } from "../../provider/resources/runtime";
import { ProviderContext } from "../../provider/resources/provider-context";

/**
 * A provider as the engine would configure it: stack config, no environment.
 * Each kind has its own context in a provider process (runtime.providerFor);
 * pass one context to several providers of the same kind to share its
 * clients and request bound, as the resources of one kind do.
 */
export async function configuredProvider(
  kind: ProviderKind,
  config: Record<string, string>,
  context = new ProviderContext({}),
): Promise<{ provider: Required<pulumi.dynamic.ResourceProvider>; close: () => Promise<void> }> {
  const provider = createProvider(kind, context) as Required<pulumi.dynamic.ResourceProvider>;
  await provider.configure({ config: { get: (k: string) => config[k], require: (k: string) => config[k] } });
  return { provider, close: () => context.close() };
}
