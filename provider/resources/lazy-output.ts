/**
 * An Output that is made only when something uses it. The SDK runs an
 * `apply` as soon as its inputs resolve, whether or not anything reads the
 * result: a files resource's `dataPaths` as a list (100,000 arrays and
 * strings at 100,000 files, about 30 MiB of the program's peak) would be
 * built in every program that only hands it to an ImportJob, which takes
 * the packed form (packed-data-paths.ts) and never reads the list.
 *
 * What the SDK asks of any value without meaning to use it is answered here
 * without making the Output: its marker (`__pulumiOutput`), the other `__`
 * names it probes for, symbols, and `then` (an Output is not a promise, as
 * the SDK's own Outputs say). Properties defined on the lazy Output itself
 * (withPacked's marker) stay on it. Anything else (`apply`, `promise`,
 * `isKnown`, a lifted property, serialization as a resource's input, its
 * prototype) makes it once and forwards there.
 *
 * The program loads this module: nothing but types from @pulumi/pulumi.
 */
import type { Output } from "@pulumi/pulumi";

/** What the lazy Output answers without being made, as the SDK's own Outputs answer it. */
function answeredWithoutMaking(key: PropertyKey): boolean {
  return typeof key === "symbol" || key === "then" || key.toString().startsWith("__");
}

export function lazyOutput<T>(make: () => Output<T>): Output<T> {
  let made: Output<T> | undefined;
  const real = (): object => (made ??= make());
  // No prototype: only what is defined on the lazy Output is found on it without making it.
  const own: Record<PropertyKey, unknown> = Object.create(null);
  own.__pulumiOutput = true;
  return new Proxy(own, {
    get: (target, key) => (Object.hasOwn(target, key) ? target[key] : answeredWithoutMaking(key) ? undefined : Reflect.get(real(), key)),
    has: (target, key) => Object.hasOwn(target, key) || (!answeredWithoutMaking(key) && Reflect.has(real(), key)),
    // An Output's prototype: `instanceof` holds, and a deep merge (lodash's) keeps the Output as it keeps a real one
    // instead of copying the marker alone into a plain object that is no Output at all.
    getPrototypeOf: () => Object.getPrototypeOf(real()) as object | null,
  }) as unknown as Output<T>;
}
