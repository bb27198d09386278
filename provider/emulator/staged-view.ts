/**
 * The one place import and merge jobs meet the store: a volume's objects
 * are its prefix + path. A stage is a managed volume, so both names resolve
 * here; an external volume's files live in the user's bucket, which the
 * emulator does not have: to a job, they do not exist.
 */
import { promises as fs } from "node:fs";
import type { StagedFiles } from "./import-files";
import type { Store } from "./store";

export function stagedView(store: Store): StagedFiles {
  const managed = (name: string) => {
    const volume = store.volume(name);
    return volume?.type === "MANAGED" ? volume : undefined;
  };
  return {
    exists: (source) => managed(source.name) !== undefined,
    list: (source, dir) => {
      const prefix = managed(source.name)?.prefix;
      return prefix === undefined ? [] : store.listObjects(prefix + dir).map((o) => o.key.slice(prefix.length));
    },
    read: async (source, p) => {
      const volume = managed(source.name);
      return volume && store.object(volume.prefix + p) ? fs.readFile(store.objectFile(volume.prefix + p)) : undefined;
    },
  };
}
