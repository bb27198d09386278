/**
 * The CRUD logic behind `StagedFiles`. `check` scans the source and puts the
 * manifest into the checked inputs, so the engine sees (and `pulumi preview
 * --diff` shows) exactly which files change; create/update turn the
 * difference between the recorded and the new manifest into uploads and
 * deletions. Runs inside the dynamic-provider process.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isNotFound } from "../client";
import { ZillizUploadError, ZillizValidationError } from "../errors";
import {
  deleteFiles,
  executeUpload,
  listRemoteFiles,
  Manifest,
  manifestHash,
  normalizeStagePath,
  planChanges,
  scanSource,
} from "../upload";
import { checkProperties, isUnknown, StagedFilesInputs, stagedFilesInputsSchema } from "./inputs";
import { connectionChanged } from "./connection";
import { ProviderContext } from "./provider-context";

/** Checked inputs: the user's inputs plus what `check` derived from the disk. */
export interface CheckedStagedFiles extends StagedFilesInputs {
  path: string;
  manifest: Manifest;
  /** The directory the manifest's paths are relative to, as the scan found it. */
  root: string;
}

/** What a StagedFiles keeps in the state. */
export interface StagedFilesOutputs {
  stageName: string;
  path: string;
  source: string;
  deleteRemoved: boolean;
  /** relative path -> size, sha256, mtime: what is in the stage now, as far as this resource knows. */
  manifest: Manifest;
  /** Files removed locally but kept in the stage because deleteRemoved is false; destroy removes them. */
  retained: string[];
  /** Object paths inside the stage (path + relative path). */
  files: string[];
  fileCount: number;
  totalBytes: number;
  manifestHash: string;
  /** The shape an import job takes: one list per file. */
  dataPaths: string[][];
  connection?: StagedFilesInputs["connection"];
}

const PROVIDER_KEY = "__provider";

/** The resource id: the stage and the directory inside it. */
export function stagedFilesId(stageName: string, stagePath: string): string {
  return `${stageName}/${stagePath}`;
}

export function outputsFor(news: CheckedStagedFiles, manifest: Manifest, retained: string[]): StagedFilesOutputs {
  const rels = Object.keys(manifest).sort();
  const files = rels.map((rel) => news.path + rel);
  const outs: StagedFilesOutputs = {
    stageName: news.stageName,
    path: news.path,
    source: news.source,
    deleteRemoved: news.deleteRemoved ?? true,
    manifest,
    retained: retained.filter((rel) => !(rel in manifest)).sort(),
    files,
    fileCount: rels.length,
    totalBytes: rels.reduce((sum, rel) => sum + manifest[rel].size, 0),
    manifestHash: manifestHash(manifest),
    dataPaths: files.map((f) => [f]),
  };
  if (news.connection) outs.connection = news.connection;
  return outs;
}

/**
 * An error that makes the engine record what did arrive, so the next `up`
 * sends only the rest (the SDK turns `id` + `properties` into a partial
 * failure). `__provider` must be in the properties or later calls on this
 * resource could not load the provider.
 */
function partialFailure(err: ZillizUploadError, id: string, outs: StagedFilesOutputs, providerText: unknown): Error {
  return Object.assign(new ZillizUploadError(err.message, { completed: err.completed, deleted: err.deleted, cause: err }), {
    id,
    properties: { ...outs, [PROVIDER_KEY]: providerText },
    reasons: [err.message],
  });
}

export function stagedFilesProvider(context: ProviderContext): pulumi.dynamic.ResourceProvider {
  async function sync(
    id: string,
    news: CheckedStagedFiles,
    previous: Manifest | undefined,
    previouslyRetained: string[],
  ): Promise<StagedFilesOutputs> {
    const plan = planChanges(previous, news.manifest);
    const keep = news.deleteRemoved === false;
    const retained = keep ? [...new Set([...previouslyRetained, ...plan.delete])] : [];
    const toDelete = keep ? [] : [...new Set([...plan.delete, ...previouslyRetained])].filter((r) => !(r in news.manifest));
    const client = context.client(news.connection);
    try {
      await executeUpload(
        {
          stageName: news.stageName,
          path: news.path,
          root: news.root,
          manifest: news.manifest,
          upload: plan.upload,
          delete: toDelete,
        },
        { targets: client, concurrency: news.concurrency, limiter: context.requests },
      );
    } catch (err) {
      if (!(err instanceof ZillizUploadError)) throw err;
      // Record exactly what the stage holds now: the old entries, minus what
      // was deleted, plus what arrived and was verified.
      const recorded: Manifest = { ...(previous ?? {}) };
      for (const rel of err.deleted) delete recorded[rel];
      for (const rel of err.completed) recorded[rel] = news.manifest[rel];
      const stillRetained = [...new Set([...previouslyRetained, ...retained])].filter((r) => !err.deleted.includes(r));
      throw partialFailure(err, id, outputsFor(news, recorded, stillRetained), (news as unknown as Record<string, unknown>)[PROVIDER_KEY]);
    }
    return outputsFor(news, news.manifest, retained);
  }

  return {
    async configure(req) {
      context.configure(req);
    },

    async check(olds: Partial<CheckedStagedFiles>, news: Record<string, unknown>) {
      const failures = checkProperties(stagedFilesInputsSchema, news);
      const inputs = { ...news } as Record<string, unknown>;
      if (!isUnknown(news.path)) {
        try {
          inputs.path = normalizeStagePath(news.path as string | undefined);
        } catch (err) {
          failures.push({ property: "path", reason: (err as Error).message });
        }
      }
      const scannable = !failures.some((f) => ["source", "include", "exclude", "followSymlinks"].includes(f.property.split(".")[0]));
      if (scannable && !isUnknown(news.source) && !isUnknown(news.include) && !isUnknown(news.exclude)) {
        const args = news as StagedFilesInputs;
        try {
          const scan = await scanSource(args.source, {
            include: args.include,
            exclude: args.exclude,
            cache: olds.source === args.source ? olds.manifest : undefined,
            forceRehash: args.forceRehash,
            followSymlinks: args.followSymlinks,
          });
          inputs.manifest = scan.manifest;
          inputs.root = scan.root;
          for (const pattern of scan.unmatchedPatterns) {
            // The engine shows a provider's stderr with the resource; a pattern
            // that matches nothing is usually a typo, but not an error.
            const list = args.include?.includes(pattern) ? "include" : "exclude";
            console.error(
              `warning: StagedFiles source ${args.source}: ${list} pattern "${pattern}" matches no file; ` +
                `patterns match paths relative to the source (e.g. "**/*.parquet"): fix the pattern or remove it`,
            );
          }
        } catch (err) {
          if (!(err instanceof ZillizValidationError)) throw err;
          failures.push({ property: err.field, reason: err.message });
        }
      }
      return { inputs, failures };
    },

    async diff(_id, olds: StagedFilesOutputs, news: CheckedStagedFiles) {
      const replaces: string[] = [];
      if (isUnknown(news.stageName) || olds.stageName !== news.stageName) replaces.push("stageName");
      if (isUnknown(news.path) || olds.path !== news.path) replaces.push("path");
      const manifestChanged = !news.manifest || isUnknown(news.manifest) || manifestHash(olds.manifest) !== manifestHash(news.manifest);
      // State from older versions or an import may lack fields: read them as empty.
      const settingsChanged =
        olds.source !== news.source ||
        olds.deleteRemoved !== (news.deleteRemoved ?? true) ||
        ((olds.retained ?? []).length > 0 && news.deleteRemoved !== false);
      const reconnected = isUnknown(news.connection) || connectionChanged(olds.connection, news.connection);
      return {
        changes: replaces.length > 0 || manifestChanged || settingsChanged || reconnected,
        replaces,
        // Old and new paths may overlap (e.g. "" and "data/"): removing the old
        // files first guarantees the cleanup never deletes a fresh upload.
        deleteBeforeReplace: replaces.includes("path"),
      };
    },

    async create(news: CheckedStagedFiles) {
      const id = stagedFilesId(news.stageName, news.path);
      return { id, outs: await sync(id, news, undefined, []) };
    },

    async update(id, olds: StagedFilesOutputs, news: CheckedStagedFiles) {
      return { outs: await sync(id, news, olds.manifest, olds.retained ?? []) };
    },

    async read(id, props?: StagedFilesOutputs) {
      if (!props?.manifest) return { id, props: props ?? {} };
      const client = context.client(props.connection);
      let remote: Map<string, number>;
      try {
        remote = await listRemoteFiles(client, { stageName: props.stageName, path: props.path });
      } catch (err) {
        if (isNotFound(err)) return {}; // the stage, and so these files, are gone
        throw err;
      }
      // Keep only what is really there with the recorded size; anything else
      // becomes a difference that the next `up` repairs.
      const manifest: Manifest = {};
      for (const [rel, entry] of Object.entries(props.manifest)) {
        if (remote.get(rel) === entry.size) manifest[rel] = entry;
      }
      const retained = (props.retained ?? []).filter((rel) => remote.has(rel));
      return { id, props: { ...props, ...outputsFor(props as unknown as CheckedStagedFiles, manifest, retained) } };
    },

    async delete(_id, props: StagedFilesOutputs) {
      const owned = [...Object.keys(props.manifest ?? {}), ...(props.retained ?? [])];
      if (owned.length === 0) return;
      const client = context.client(props.connection);
      try {
        await deleteFiles({ stageName: props.stageName, path: props.path }, owned, { targets: client, limiter: context.requests });
      } catch (err) {
        // Deleting the stage took its files with it.
        if (isNotFound(err) || (err instanceof ZillizUploadError && isNotFound(err.cause))) return;
        throw err;
      }
    },
  };
}
