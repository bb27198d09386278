/**
 * pulumi-zilliz-stages: Zilliz Cloud stages as code.
 *
 * - `Stage` and `StagedFiles`: the Pulumi resources.
 * - `StageClient`: a typed client for the stage REST API.
 * - `scanSource`, `planChanges`, `executeUpload`: the upload engine the resources use.
 * - The error family every failure belongs to.
 *
 * The local emulator lives at `pulumi-zilliz-stages/emulator`.
 */
export * from "./errors";
export * from "./resources";
export * from "./client";
export * from "./upload";
