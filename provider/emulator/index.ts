/**
 * A local stand-in for Zilliz Cloud's stage and volume service: the REST
 * API, an S3-compatible (and, for Google Cloud regions, GCS-style) object
 * endpoint with expiring temporary credentials, optional TLS, and fault
 * injection for tests. Its API codes are those of ../client/api-codes.
 */
export { peakOverlap, startEmulator } from "./server";
export type { Emulator, EmulatorOptions, RequestRecord } from "./server";
export { FaultInjector, REQUEST_KINDS } from "./faults";
export type { FaultSpec, RequestKind } from "./faults";
export { DEFAULT_COLLECTION } from "./import-routes";
export type { StagedFiles, StagedSource } from "./import-files";
export type { ErrorStyle } from "./control-plane";
export type { Field as CollectionField } from "./collections";
