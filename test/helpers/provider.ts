import type * as pulumi from "@pulumi/pulumi";
import { createProvider, ProviderKind } from "../../provider/resources/runtime";
import { ProviderContext } from "../../provider/resources/provider-context";
import { ZillizClient } from "../../provider/client";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../provider/emulator";

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

/** The stack config that points a provider at a service (an Emulator is one): its URL and API key. */
export function serviceConfig(at: { url: string; apiKey: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { "zillizcloud:apiKey": at.apiKey, "zillizcloud:endpoint": at.url, ...extra };
}

/** What most provider tests start from: see {@link providerOnEmulator}. */
export interface ProviderOnEmulator {
  emu: Emulator;
  provider: Required<pulumi.dynamic.ResourceProvider>;
  /** A client of the same service, for the test's own calls (adopting, checking what is there). */
  client: ZillizClient;
  /** What the provider told the user (stderr under the engine), a line an entry. */
  said: string[];
  /** Ends the provider's clients, the test's client and the emulator. */
  close: () => Promise<void>;
}

/**
 * An emulator on 127.0.0.1 (holding `stage` when given), a provider of `kind`
 * configured for it as the engine would, and a client of the service.
 */
export async function providerOnEmulator(
  kind: ProviderKind,
  options: { emulator?: EmulatorOptions; stage?: { projectId: string; stageName: string } } = {},
): Promise<ProviderOnEmulator> {
  const emu = await startEmulator(options.emulator);
  const client = new ZillizClient({ endpoint: emu.url, apiKey: emu.apiKey });
  const said: string[] = [];
  try {
    if (options.stage) await client.createStage({ regionId: "aws-us-west-2", ...options.stage });
    const { provider, close } = await configuredProvider(kind, serviceConfig(emu), capturingContext(said));
    return {
      emu,
      provider,
      client,
      said,
      close: async () => {
        await close();
        await client.close();
        await emu.stop();
      },
    };
  } catch (err) {
    await client.close();
    await emu.stop();
    throw err;
  }
}

/** The provider's check of `news` (after `olds`), failing the test on any failure; the checked inputs. */
export async function checkedInputs(provider: pulumi.dynamic.ResourceProvider, news: Record<string, unknown>, olds: Record<string, unknown> = {}): Promise<any> {
  const res = await provider.check!(olds, news);
  expect(res.failures).toEqual([]);
  return res.inputs;
}

/**
 * Between tests that share one emulator and provider: no fault left armed,
 * no request of an earlier test recorded, nothing said yet.
 */
export function afresh(emu: Emulator, said: string[]): void {
  emu.faults.clear();
  emu.clearRequests();
  said.length = 0;
}
