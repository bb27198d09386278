import type * as pulumi from "@pulumi/pulumi";
import { createProvider, ProviderKind } from "../../provider/resources/runtime";
import { ProviderContext } from "../../provider/resources/provider-context";

/**
 * A context whose lines for the user go into `said` instead of stderr (the
 * provider process's default), where a test can read them and a passing run
 * prints nothing.
 */
export function capturingContext(said: string[] = [], requestLimit?: number): ProviderContext {
  return new ProviderContext({}, requestLimit, { log: (message) => said.push(...message.split("\n")) });
}

/**
 * A provider as the engine would configure it: stack config, no environment.
 * Each kind has its own context in a provider process (runtime.providerFor);
 * pass one context to several providers of the same kind to share its
 * clients and request bound, as the resources of one kind do.
 */
export async function configuredProvider(
  kind: ProviderKind,
  config: Record<string, string>,
  context = capturingContext(),
): Promise<{ provider: Required<pulumi.dynamic.ResourceProvider>; close: () => Promise<void> }> {
  const provider = createProvider(kind, context) as Required<pulumi.dynamic.ResourceProvider>;
  await provider.configure({ config: { get: (k: string) => config[k], require: (k: string) => config[k] } });
  return { provider, close: () => context.close() };
}
