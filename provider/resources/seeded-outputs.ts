/**
 * A dynamic resource's outputs exist on the resource object only when the
 * props its class passes name them, so each class seeds its declared outputs
 * as undefined. The names are kept in one list a class and its tests share,
 * so that a test of "every key the class sends" checks the class's own keys.
 */
export function seededOutputs<K extends string>(names: readonly K[]): Record<K, undefined> {
  return Object.fromEntries(names.map((name) => [name, undefined])) as Record<K, undefined>;
}
