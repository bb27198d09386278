/**
 * The upload engine: scan (a manifest of what is on disk), plan (a pure diff
 * of two manifests), execute (move the bytes), delete (remove what a
 * resource owned), and a look at what a stage holds.
 */
export { normalizeStagePath, objectKey, MAX_KEY_BYTES } from "./keys";
export { manifestHash, manifestSchema, manifestEntrySchema } from "./manifest";
export type { Manifest, ManifestEntry } from "./manifest";
export { planChanges } from "./plan";
export type { Plan } from "./plan";
export { hashListing, scanSource, unreadManifest } from "./scan";
export { identitiesOf, listingFingerprint, listSource } from "./source-listing";
export type { FileIdentity, HashedParts, Identities } from "./local-file";
export type { ScanOptions, ScanResult } from "./scan";
export type { ListOptions, SourceListing } from "./source-listing";
export type { ObjectLocation, ObjectSourceSettings } from "./object-location";
export { decodeManifest, encodeManifest, manifestPaths } from "./manifest-codec";
export { hashFiles } from "./hash";
export type { HashJob, HashResult } from "./hash";
export { executeUpload } from "./execute";
export { deleteFiles } from "./delete";
export type { DeleteFilesOptions } from "./delete";
export { RequestLimiter } from "./limiter";
export type { ExecuteOptions, UploadJob, UploadOutcome, UploadProgress } from "./execute";
export type { UploadTargetSource } from "./credentials";
export { inspectOwned, listRemoteDigests, listRemoteFiles } from "./remote";
export type { OwnedObjects } from "./remote";
export { emptyManifest, entryOf, toManifest } from "./manifest";
export type { ObjectOwner } from "./object-metadata";
