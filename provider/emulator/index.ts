/**
 * A local stand-in for Zilliz Cloud's stage service: the REST API, an
 * S3-compatible object endpoint with expiring temporary credentials, and
 * fault injection for tests.
 */
export { peakOverlap, startEmulator } from "./server";
export type { Emulator, EmulatorOptions, RequestRecord } from "./server";
export { FaultInjector, REQUEST_KINDS } from "./faults";
export type { FaultSpec, RequestKind } from "./faults";
export { EMULATOR_ERROR_CODES } from "./control-plane";
export { DEFAULT_COLLECTION, IMPORT_ERROR_CODES } from "./import-routes";
export type { StagedFiles, StagedSource } from "./import-files";
