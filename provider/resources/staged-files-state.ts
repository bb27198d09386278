/**
 * What a file resource keeps in the state, and how state of every version
 * this package wrote is read back.
 *
 * Checked inputs hold no manifest, only `sourceFingerprint` (one hash of the
 * source's paths, sizes and mtimes). The outputs hold the one copy of the
 * manifest, encoded (see upload/manifest-codec.ts): about 45 bytes a file.
 * `files` and `dataPaths` are not stored; the resource class derives them
 * in the program from `manifest`.
 *
 * 0.1.0 wrote the manifest as an object into both the inputs and the
 * outputs, with `files` and `dataPaths` beside it, and sometimes no
 * `retained`. Such state is read as it is and rewritten in this form by the
 * next update (or refresh).
 */
import { randomBytes } from "node:crypto";
import { decodeManifest, encodeManifest, Manifest, manifestHash, manifestPaths, ObjectOwner } from "../upload";
import { decodeChanged, encodeChanged } from "./changed-files";
import type { z } from "zod";
import type { StorageRef, ZillizClient } from "../client";
import { StagedFilesInputs, stagedFilesInputsSchema } from "./inputs";

/** The container the files go into, as each dialect names it. */
export interface FilesDialect {
  /** The resource's name in messages. */
  resource: "StagedFiles" | "VolumeFiles";
  /** The input and output that names the container, and the apply call's field: `stageName` or `volumeName`. */
  nameField: "stageName" | "volumeName";
  /** The inputs `check` validates. */
  inputsSchema: z.ZodObject;
  /**
   * Refuses a container the files cannot go into, before anything is read
   * or sent (create and update; preview cannot know). Throws to refuse.
   */
  checkContainer?(client: ZillizClient, name: string): Promise<void>;
}

export const STAGED_FILES: FilesDialect = { resource: "StagedFiles", nameField: "stageName", inputsSchema: stagedFilesInputsSchema };

/** Where the files go, as the upload engine and the apply call name it. */
export function storageRefOf(dialect: FilesDialect, props: object, path: string): StorageRef {
  const name = nameOf(dialect, props);
  return dialect.nameField === "volumeName" ? { volumeName: name, path } : { stageName: name, path };
}

/** Checked inputs: the user's inputs, `path` normalised, plus what `check` saw on disk. */
export interface CheckedStagedFiles extends StagedFilesInputs {
  path: string;
  /** Absent while `source` (or a filter) is unknown. */
  sourceFingerprint?: string;
}

/** What a StagedFiles keeps in the state. */
export interface StagedFilesOutputs {
  /** The container's name, under the dialect's field (`volumeName` for VolumeFiles). */
  stageName: string;
  path: string;
  source: string;
  /** How an s3:// or gs:// source is reached, as given (absent for a local source). */
  sourceEndpoint?: string;
  sourcePathStyle?: boolean;
  sourceRegion?: string;
  deleteRemoved: boolean;
  /** relative path -> size, sha256, mtime, encoded: what is in the stage now, as far as this resource knows. */
  manifest: string;
  /** Files removed locally but kept in the stage because deleteRemoved is false; destroy removes them. */
  retained: string[];
  fileCount: number;
  totalBytes: number;
  manifestHash: string;
  /** The files the last create or update added or changed, as index ranges over the manifest's sorted paths (changed-files.ts). */
  changed: string;
  /** Set when that create or update failed part-way: the next one adds its own changes to these instead of replacing them. */
  changesUnfinished?: boolean;
  /**
   * Written with every object this resource writes (object-metadata.ts):
   * removals and destroy delete only objects carrying it. Minted at create;
   * state from before owners gets one at its next create or update.
   */
  ownerToken?: string;
  /** The resource's URN as the program passed it last (messages only). */
  ownerUrn?: string;
  connection?: StagedFilesInputs["connection"];
}

/** Outputs as any version wrote them. */
export type StoredStagedFiles = Partial<Omit<StagedFilesOutputs, "manifest">> & { manifest?: unknown };

/** The container name in any props, through the dialect. */
export function nameOf(dialect: FilesDialect, props: object): string {
  return (props as Record<string, string>)[dialect.nameField];
}

/** The resource id: the container and the directory inside it. */
export function filesId(name: string, stagePath: string): string {
  return `${name}/${stagePath}`;
}

/**
 * The changes recorded in `olds` that the next create or update must carry
 * on: only those of a run that failed part-way, whose files arrived but were
 * never reported by a finished run.
 */
export function unfinishedChanges(olds: StoredStagedFiles | undefined): string[] {
  return olds?.changesUnfinished ? decodeChanged(olds.changed, manifestPaths(olds.manifest)) : [];
}

/** The owner a create or update writes as: the recorded token, or a new one. */
export function ownerFor(olds: StoredStagedFiles | undefined, news: { ownerUrn?: string }): ObjectOwner {
  const recorded = typeof olds?.ownerToken === "string" && olds.ownerToken !== "" ? olds.ownerToken : undefined;
  return { token: recorded ?? randomBytes(16).toString("base64url"), urn: news.ownerUrn ?? "" };
}

/** The owner recorded in any version's outputs; undefined before owners existed. */
export function recordedOwner(props: StoredStagedFiles): ObjectOwner | undefined {
  return typeof props.ownerToken === "string" && props.ownerToken !== "" ? { token: props.ownerToken, urn: props.ownerUrn ?? "" } : undefined;
}

/** The manifest recorded in any version's outputs. */
export function storedManifest(olds: StoredStagedFiles | undefined): Manifest {
  return decodeManifest(olds?.manifest);
}

export function outputsFor(
  dialect: FilesDialect,
  settings: Pick<CheckedStagedFiles, "path" | "source" | "deleteRemoved" | "connection" | "sourceEndpoint" | "sourcePathStyle" | "sourceRegion"> & object,
  manifest: Manifest,
  retained: string[],
  changes: { changed: Iterable<string>; unfinished?: boolean } = { changed: [] },
  owner?: ObjectOwner,
): StagedFilesOutputs {
  const rels = Object.keys(manifest);
  const outs: Omit<StagedFilesOutputs, "stageName"> = {
    path: settings.path,
    source: settings.source,
    deleteRemoved: settings.deleteRemoved ?? true,
    manifest: encodeManifest(manifest),
    retained: [...new Set(retained)].filter((rel) => !Object.hasOwn(manifest, rel)).sort(),
    fileCount: rels.length,
    totalBytes: rels.reduce((sum, rel) => sum + manifest[rel].size, 0),
    manifestHash: manifestHash(manifest),
    changed: encodeChanged(manifestPaths(manifest), changes.changed),
  };
  if (settings.sourceEndpoint !== undefined) outs.sourceEndpoint = settings.sourceEndpoint;
  if (settings.sourcePathStyle !== undefined) outs.sourcePathStyle = settings.sourcePathStyle;
  if (settings.sourceRegion !== undefined) outs.sourceRegion = settings.sourceRegion;
  if (changes.unfinished) outs.changesUnfinished = true;
  if (owner) {
    outs.ownerToken = owner.token;
    if (owner.urn) outs.ownerUrn = owner.urn;
  }
  if (settings.connection) outs.connection = settings.connection;
  // Typed in the stage dialect's terms: a VolumeFiles records volumeName in its place.
  return { [dialect.nameField]: nameOf(dialect, settings), ...outs } as StagedFilesOutputs;
}

