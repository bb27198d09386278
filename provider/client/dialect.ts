/**
 * Stages and volumes are one API in two dialects: the same calls under
 * another base path, with the name (and the key prefix of an apply answer)
 * under another field. Everything that differs is in this table; the client,
 * the upload engine and the emulator read it instead of spelling either out.
 */

export interface Dialect {
  /** "stage" or "volume": for messages. */
  noun: "stage" | "volume";
  basePath: "/v2/stages" | "/v2/volumes";
  /** The name's field in requests and answers. */
  nameField: "stageName" | "volumeName";
  /** The field of a list answer holding the items. */
  listField: "stages" | "volumes";
}

export const STAGE_DIALECT = { noun: "stage", basePath: "/v2/stages", nameField: "stageName", listField: "stages" } as const satisfies Dialect;
export const VOLUME_DIALECT = { noun: "volume", basePath: "/v2/volumes", nameField: "volumeName", listField: "volumes" } as const satisfies Dialect;

/** Where an upload goes: a directory of a stage or of a volume, named in its dialect's field. */
export type StorageRef = { stageName: string; path: string } | { volumeName: string; path: string };

/** The dialect a reference speaks, from the name field it carries. */
export function dialectOf(ref: StorageRef): Dialect {
  return "volumeName" in ref ? VOLUME_DIALECT : STAGE_DIALECT;
}

/** The stage's or volume's name. */
export function storageName(ref: StorageRef): string {
  return "volumeName" in ref ? ref.volumeName : ref.stageName;
}

/** "stage s1" or "volume v1", for messages. */
export function describeStorage(ref: StorageRef): string {
  return `${dialectOf(ref).noun} ${storageName(ref)}`;
}

/** The same stage or volume, at `path` (only the name and the path: what an apply call sends). */
export function storageAt(ref: StorageRef, path: string): StorageRef {
  return "volumeName" in ref ? { volumeName: ref.volumeName, path } : { stageName: ref.stageName, path };
}
