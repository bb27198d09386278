/**
 * Values as they cross the provider protocol. The native provider accepts
 * secrets and output values, so the engine sends them wrapped in special
 * objects (a signature key beside the value); the controllers were written
 * for the dynamic provider, which sees plain values and the unknown
 * sentinel. These pure functions translate both ways.
 */
import { UNKNOWN } from "../resources/inputs";

/** The property that marks a wrapped value, and the signatures the SDKs use. */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Plain values for the controllers: a secret becomes its value, an output
 * value its value (or the unknown sentinel when it has none yet). Whether
 * anything was secret is returned too, so the outputs can stay secret.
 */
export function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (!isObject(value)) return value;
  if (value[SIG] === SECRET_SIG) return unwrap(value.value);
  if (value[SIG] === OUTPUT_SIG) return Object.hasOwn(value, "value") ? unwrap(value.value) : UNKNOWN;
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(value)) out[k] = unwrap(v);
  // A plain object again: the controllers spread and serialize it.
  return { ...out };
}

export function secret(value: unknown): Json {
  return { [SIG]: SECRET_SIG, value: value as Json };
}

export function isSecret(value: unknown): boolean {
  return isObject(value) && value[SIG] === SECRET_SIG;
}

/** The object with `keys` (when present) wrapped as secrets. */
export function withSecrets(props: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...props };
  for (const k of keys) if (out[k] !== undefined && !isSecret(out[k])) out[k] = secret(out[k]);
  return out;
}
