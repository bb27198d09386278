/**
 * The CRUD logic behind `StagedFiles`. Runs inside the dynamic-provider
 * process.
 *
 * `check` validates and walks the source without reading a file, putting a
 * `sourceFingerprint` into the inputs. `diff` (the first call that sees the
 * recorded manifest) hashes only the files whose size or mtime moved,
 * compares content, and prints which files would change; `create` and
 * `update` reuse that scan, plan, and upload. State layout and the 0.1.0
 * compatibility live in staged-files-state.ts.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isNotFound } from "../client";
import { ZillizUploadError, ZillizValidationError } from "../errors";
import {
  deleteFiles,
  emptyManifest,
  entryOf,
  executeUpload,
  hashListing,
  identitiesOf,
  inspectOwned,
  listingFingerprint,
  listRemoteFiles,
  listSource,
  Manifest,
  manifestPaths,
  normalizeStagePath,
  planChanges,
  SourceListing,
  unreadManifest,
} from "../upload";
import { objectPlannedSource, ObjectSourceClient } from "../upload/object-source";
import { ProgressReporter, summarizeChanges } from "./file-report";
import { connectionChanged } from "./connection";
import { checkProperties, isUnknown, onePerProperty, StagedFilesInputs, unknownInputFailures } from "./inputs";
import { ProviderContext } from "./provider-context";
import { RecentScans } from "./recent-scans";
import {
  CheckedStagedFiles,
  filesId,
  FilesDialect,
  nameOf,
  outputsFor,
  ownerFor,
  recordedOwner,
  STAGED_FILES,
  StagedFilesOutputs,
  storageRefOf,
  storedManifest,
  StoredStagedFiles,
  unfinishedChanges,
} from "./staged-files-state";
import { decodeChanged } from "./changed-files";
import { partialFailure } from "./partial-failure";
import { reconciled, stamped } from "./recorded-manifest";

export type { CheckedStagedFiles, StagedFilesOutputs } from "./staged-files-state";

/**
 * Keys besides the inputs that check may receive: outputs the class seeds as
 * undefined (staged-files.ts), what check derives, and the manifest 0.1.0
 * kept among the inputs.
 */
const FILES_INTERNAL_KEYS = ["fileCount", "totalBytes", "manifestHash", "manifest", "changed", "sourceFingerprint", "retained", "changesUnfinished", "files", "dataPaths"];
/** Inputs that decide which files are scanned: while one is unknown, nothing is. */
const SCAN_INPUTS = ["source", "include", "exclude", "followSymlinks", "sourceEndpoint", "sourcePathStyle", "sourceRegion"] as const;

/**
 * A source that yields no file would make `up` remove every file under the
 * path (a CI step that produced nothing, an `exclude` that drops
 * everything): refused unless the program says it means it.
 */
function emptySource(listing: SourceListing, args: Pick<StagedFilesInputs, "source" | "include" | "exclude" | "allowEmpty">): ZillizValidationError | undefined {
  if (listing.files.length > 0 || args.allowEmpty === true || isUnknown(args.allowEmpty)) return undefined;
  const filtered = (args.include?.length ?? 0) + (args.exclude?.length ?? 0) > 0;
  return new ZillizValidationError(
    "source",
    `${args.source} yields no file${filtered ? " after include and exclude" : listing.objects ? " (no object under the prefix)" : " (an empty directory)"}, so this update would remove every file under the path; ` +
      `fix source${filtered ? ", include or exclude" : ""}, or set allowEmpty: true if an empty source is meant`,
  );
}

export function stagedFilesProvider(context: ProviderContext, dialect: FilesDialect = STAGED_FILES): pulumi.dynamic.ResourceProvider {
  const label = (props: object, stagePath: string) => `${dialect.resource} ${filesId(nameOf(dialect, props), stagePath)}`;

  /**
   * The manifest of the source now. Reuses what check and diff of this
   * process already found for exactly this listing; otherwise walks, and
   * hashes only the files `previous` cannot vouch for.
   */
  async function scan(news: CheckedStagedFiles, previous: Manifest | undefined, read = true): Promise<{ root: string; manifest: Manifest; listing: SourceListing }> {
    const key = RecentScans.key(news);
    const recent = context.scans.get(key, news.sourceFingerprint);
    const listing = recent?.listing ?? (await listSource(news.source, news));
    // check refuses this first; this guards a source that was unknown at check or emptied since.
    const empty = emptySource(listing, news);
    if (empty) throw empty;
    if (recent?.manifest) return { root: listing.root, manifest: recent.manifest, listing };
    // A preview of an object source reads no object: the listing's sizes and ETags say what changed.
    if (!read && listing.objects) return { root: listing.root, manifest: unreadManifest(listing, news.forceRehash ? undefined : previous), listing };
    if (listing.objects) {
      // An up's read of an object source: small objects bound for free keys are
      // hashed as they are sent (one read, not two), so the manifest is the run's alone.
      const where = storageRefOf(dialect, news, news.path);
      const freeKeys = async () => {
        const occupied = await listRemoteFiles(context.client(news.connection), where);
        return (rel: string) => !occupied.has(rel);
      };
      return { root: listing.root, manifest: (await hashListing(listing, { cache: previous, forceRehash: news.forceRehash, freeKeys })).manifest, listing };
    }
    const { manifest } = await hashListing(listing, { cache: previous, forceRehash: news.forceRehash });
    const fingerprint = recent ? news.sourceFingerprint! : listingFingerprint(listing);
    if (!recent) context.scans.putListing(key, fingerprint, listing);
    context.scans.putManifest(key, fingerprint, manifest);
    return { root: listing.root, manifest, listing };
  }

  async function sync(id: string, news: CheckedStagedFiles, olds: StoredStagedFiles | undefined): Promise<StagedFilesOutputs> {
    await dialect.checkContainer?.(context.client(news.connection), nameOf(dialect, news));
    // What diff decoded of the same recorded manifest, or a decode of our own.
    const previous = context.scans.recordedManifest(RecentScans.key(news), news.sourceFingerprint, olds?.manifest) ?? storedManifest(olds);
    const previouslyRetained = olds?.retained ?? [];
    const carried = unfinishedChanges(olds);
    const scanned = await scan(news, previous);
    // This scan is used up: a later call must look at the disk again.
    context.scans.remove(RecentScans.key(news));
    const next = scanned.manifest;
    const plan = planChanges(previous, next);
    const keep = news.deleteRemoved === false;
    const retained = keep ? [...previouslyRetained, ...plan.delete] : [];
    const toDelete = keep ? [] : [...new Set([...plan.delete, ...previouslyRetained])].filter((r) => !Object.hasOwn(next, r));
    const where = label(news, news.path);
    const progress = new ProgressReporter(where, context.log, context.progressEveryMs);
    const owner = ownerFor(olds, news);
    const listed = scanned.listing;
    let outcome;
    try {
      // `known`: objects found at planned paths that the state does not
      // record are an interrupted run's, adopted when they match.
      outcome = await context.shutdown.run((signal) => {
        // An object source is read again, range by range, pinned to the ETags
        // hashed; its reads stop with the run.
        const objects = listed.objects && new ObjectSourceClient(listed.objects.location, listed.objects.settings, signal);
        return executeUpload(
          {
            ...storageRefOf(dialect, news, news.path),
            root: scanned.root,
            manifest: next,
            upload: plan.upload,
            delete: toDelete,
            known: previous,
            identities: identitiesOf(listed),
            source: objects && objectPlannedSource(objects, identitiesOf(listed)),
            owner,
            takeOver: news.takeOver,
          },
          {
            targets: context.client(news.connection),
            concurrency: news.concurrency,
            limiter: context.requests,
            onProgress: (p) => progress.update(p),
            onNotice: (line) => context.log(`${where}: ${line}`),
            signal,
          },
        ).finally(() => objects?.close());
      });
    } catch (err) {
      if (!(err instanceof ZillizUploadError)) throw err;
      // Record exactly what the stage holds now: the old entries, minus what
      // was deleted, plus what arrived and was verified.
      const recorded: Manifest = emptyManifest();
      for (const rel of Object.keys(previous)) recorded[rel] = previous[rel];
      for (const rel of err.deleted) delete recorded[rel];
      // Without a stamp: a later removal HEADs these to read their owner.
      for (const rel of err.completed) recorded[rel] = next[rel];
      const deleted = new Set(err.deleted);
      const stillRetained = [...previouslyRetained, ...retained].filter((r) => !deleted.has(r));
      const changes = { changed: [...carried, ...err.completed], unfinished: true };
      // The engine records what did arrive, so the next `up` sends only the
      // rest. The token goes into the state even now: the objects that arrived carry it.
      const failure = new ZillizUploadError(err.message, { completed: err.completed, deleted: err.deleted, cause: err });
      throw partialFailure(failure, id, outputsFor(dialect, news, recorded, stillRetained, changes, owner), news);
    }
    return outputsFor(dialect, news, stamped(next, previous, plan.unchanged, outcome.stamps), retained, { changed: [...carried, ...plan.upload] }, owner);
  }

  return {
    async configure(req) {
      context.configure(req);
    },

    async check(_olds, news: Record<string, unknown>) {
      const failures = [...unknownInputFailures(dialect.resource, dialect.inputsSchema, news, FILES_INTERNAL_KEYS), ...checkProperties(dialect.inputsSchema, news)];
      // Inputs are what the program sent plus what check derives; a manifest
      // from 0.1.0 inputs never comes back.
      const inputs: Record<string, unknown> = { ...news };
      delete inputs.manifest;
      delete inputs.sourceFingerprint;
      if (!isUnknown(news.path) && !failures.some((f) => f.property === "path")) {
        try {
          inputs.path = normalizeStagePath(news.path as string | undefined);
        } catch (err) {
          failures.push({ property: "path", reason: (err as Error).message });
        }
      }
      const scannable = !failures.some((f) => (SCAN_INPUTS as readonly string[]).includes(f.property.split(".")[0]));
      if (scannable && !SCAN_INPUTS.some((k) => isUnknown(news[k]))) {
        const args = news as StagedFilesInputs;
        try {
          const listing = await listSource(args.source, args);
          const fingerprint = listingFingerprint(listing);
          inputs.sourceFingerprint = fingerprint;
          context.scans.putListing(RecentScans.key(args), fingerprint, listing);
          const empty = emptySource(listing, args);
          if (empty) failures.push({ property: "source", reason: empty.message });
          for (const pattern of listing.unmatchedPatterns) {
            // A pattern that matches nothing is usually a typo, but not an error.
            const list = args.include?.includes(pattern) ? "include" : "exclude";
            context.log(
              `warning: ${dialect.resource} source ${args.source}: ${list} pattern "${pattern}" matches no file; ` +
                `patterns match paths relative to the source (e.g. "**/*.parquet"): fix the pattern or remove it`,
            );
          }
        } catch (err) {
          if (!(err instanceof ZillizValidationError)) throw err;
          failures.push({ property: err.field, reason: err.message });
        }
      }
      return { inputs, failures: onePerProperty(failures) };
    },

    async diff(_id, olds: StoredStagedFiles, news: CheckedStagedFiles) {
      const replaces: string[] = [];
      const name = nameOf(dialect, news);
      if (isUnknown(name) || nameOf(dialect, olds) !== name) replaces.push(dialect.nameField);
      if (isUnknown(news.path) || olds.path !== news.path) replaces.push("path");
      const settingsChanged =
        olds.source !== news.source ||
        olds.sourceEndpoint !== news.sourceEndpoint ||
        olds.sourcePathStyle !== news.sourcePathStyle ||
        olds.sourceRegion !== news.sourceRegion ||
        (olds.deleteRemoved ?? true) !== (news.deleteRemoved ?? true) ||
        ((olds.retained ?? []).length > 0 && news.deleteRemoved !== false) ||
        // A new endpoint or key is recorded by an update, never a replacement.
        isUnknown(news.connection) ||
        connectionChanged(olds.connection, news.connection);
      let contentChanged = true;
      if (news.sourceFingerprint && !SCAN_INPUTS.some((k) => isUnknown(news[k]))) {
        const previous = storedManifest(olds);
        const { manifest: next } = await scan(news, previous, false);
        const plan = planChanges(previous, next);
        contentChanged = plan.upload.length > 0 || plan.delete.length > 0;
        // An update follows: it may take this decode rather than make its own.
        if (contentChanged) context.scans.putRecorded(RecentScans.key(news), news.sourceFingerprint, { stored: olds.manifest, manifest: previous });
        if (contentChanged && replaces.length === 0) {
          const lines = summarizeChanges({ label: label(news, news.path), path: news.path, plan, previous, next, keepRemoved: news.deleteRemoved === false });
          // One write: the engine shows each chunk of stderr as one message.
          context.log(lines.join("\n"));
        }
      }
      return {
        changes: replaces.length > 0 || contentChanged || settingsChanged,
        replaces,
        // Old and new paths may overlap (e.g. "" and "data/"): removing the old
        // files first guarantees the cleanup never deletes a fresh upload.
        deleteBeforeReplace: replaces.includes("path"),
      };
    },

    async create(news: CheckedStagedFiles) {
      const id = filesId(nameOf(dialect, news), news.path);
      return { id, outs: await sync(id, news, undefined) };
    },

    async update(id, olds: StoredStagedFiles, news: CheckedStagedFiles) {
      return { outs: await sync(id, news, olds) };
    },

    async read(id, props?: StoredStagedFiles) {
      if (!props?.manifest) return { id, props: props ?? {} };
      const client = context.client(props.connection);
      const recorded = storedManifest(props);
      const owner = recordedOwner(props);
      const retainedBefore = props.retained ?? [];
      let remote: Awaited<ReturnType<typeof inspectOwned>>;
      try {
        remote = await inspectOwned(client, storageRefOf(dialect, props, props.path!), {
          rels: [...Object.keys(recorded), ...retainedBefore],
          entry: (rel) => entryOf(recorded, rel),
          owner,
        });
      } catch (err) {
        if (isNotFound(err)) return {}; // the stage, and so these files, are gone
        throw err;
      }
      const { manifest, retained } = reconciled(recorded, retainedBefore, remote);
      if (remote.foreign.size > 0) {
        const urns = [...new Set(remote.foreign.values())].join(", ");
        context.log(`${label(props, props.path!)}: ${remote.foreign.size} object(s) now owned by ${urns} are no longer this resource's: ${[...remote.foreign.keys()].slice(0, 5).join(", ")}`);
      }
      const changes = { changed: decodeChanged(props.changed, manifestPaths(props.manifest)), unfinished: props.changesUnfinished };
      return { id, props: outputsFor(dialect, props as StagedFilesOutputs, manifest, retained, changes, owner) };
    },

    async delete(_id, props: StoredStagedFiles) {
      const known = storedManifest(props);
      const owned = [...Object.keys(known), ...(props.retained ?? [])];
      if (owned.length === 0) return;
      const client = context.client(props.connection);
      try {
        await deleteFiles(storageRefOf(dialect, props, props.path!), owned, {
          targets: client,
          limiter: context.requests,
          owner: recordedOwner(props),
          known,
          onNotice: (line) => context.log(`${label(props, props.path!)}: ${line}`),
        });
      } catch (err) {
        // Deleting the stage took its files with it. The service says so
        // (an API error) when asked for credentials: at the start, or when
        // renewing them mid-way after the store refused the old ones, which
        // deleteFiles reports as the cause of its ZillizUploadError. The
        // store's own 404s are object-level and never mean this.
        if (isNotFound(err) || (err instanceof ZillizUploadError && isNotFound(err.cause))) return;
        throw err;
      }
    },
  };
}
