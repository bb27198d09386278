/**
 * Before a job starts: are the files it names really in the volume or
 * stage? The service would take the job and fail it later (or refuse it
 * with a message about some file); checking first lets the error name the
 * input to fix, `dataPaths[i][j]`, and starts no doomed job. A managed
 * volume or a stage is listed with its own temporary credentials; an
 * external volume lives in the user's bucket, which the provider cannot
 * list, so only its paths' shape is checked: they must stay inside it.
 */
import { isNotFound, VolumeDescription } from "../client";
import { storageAt, type StorageRef } from "../client/dialect";
import { ZillizValidationError } from "../errors";
import { listRemoteFiles, UploadTargetSource } from "../upload";

/** The longest directory ("" or ending in "/") every path starts with. */
export function commonDirectory(paths: readonly string[]): string {
  if (paths.length === 0) return "";
  let prefix = paths[0];
  for (const p of paths) while (!p.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf("/") + 1);
}

/** Where a path points in a bucket URL (`s3://bucket/key`, `gs://...`, `https://host/bucket/key`), or undefined for a plain path. */
function urlKey(p: string): { bucket: string; key: string } | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)\/?(.*)$/i.exec(p);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}

/**
 * Paths of an external volume are relative to the volume's own path. A bucket
 * URL (or key) below that path is refused with its relative form; anything
 * else is outside the volume, which an import cannot read.
 */
export function checkExternalPaths(volume: VolumeDescription, dataPaths: readonly (readonly string[])[]): void {
  const root = volume.path ?? "";
  const rootKey = urlKey(root)?.key ?? root;
  dataPaths.forEach((batch, i) =>
    batch.forEach((p, j) => {
      const url = urlKey(p);
      if (!url) return;
      const field = `dataPaths[${i}][${j}]`;
      const inside = root !== "" && (p.startsWith(root) || url.key.startsWith(rootKey));
      if (inside) {
        const rel = p.startsWith(root) ? p.slice(root.length) : url.key.slice(rootKey.length);
        throw new ZillizValidationError(
          field,
          `${p} is a bucket URL; paths of external volume ${volume.volumeName} are relative to its path ${root}: write ${JSON.stringify(rel)}`,
        );
      }
      throw new ZillizValidationError(
        field,
        `${p} is outside external volume ${volume.volumeName}${root ? ` (path ${root})` : ""}: an import reads only files below the volume's path. ` +
          "Give a path relative to the volume, or create an external volume for that location and import from it",
      );
    }),
  );
}

/**
 * Lists what the managed volume or stage holds below the paths' common
 * directory and refuses the first path with nothing behind it (a folder,
 * ending in "/", must hold at least one file).
 */
export async function checkStagedPaths(
  targets: UploadTargetSource,
  source: { kind: "volume" | "stage"; name: string },
  dataPaths: readonly (readonly string[])[],
): Promise<void> {
  const all = dataPaths.flat();
  const dir = commonDirectory(all);
  const where: StorageRef = source.kind === "volume" ? { volumeName: source.name, path: "" } : { stageName: source.name, path: "" };
  let files: Map<string, number>;
  try {
    files = await listRemoteFiles(targets, storageAt(where, dir));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const field = source.kind === "volume" ? "volumeName" : "stageName";
    throw new ZillizValidationError(field, `${source.kind} ${source.name} does not exist: create it first (or fix the name)`, { cause: err });
  }
  const keys = [...files.keys()].map((k) => dir + k);
  dataPaths.forEach((batch, i) =>
    batch.forEach((p, j) => {
      const there = p.endsWith("/") ? keys.some((k) => k.startsWith(p)) : files.has(p.slice(dir.length));
      if (there) return;
      throw new ZillizValidationError(
        `dataPaths[${i}][${j}]`,
        `${p} is not in ${source.kind} ${source.name}${p.endsWith("/") ? " (the folder is empty or missing)" : ""}: ` +
          "upload it first (pass the files resource's dataPaths, so the import waits for the upload) or remove it from dataPaths",
      );
    }),
  );
}
