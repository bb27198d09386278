/**
 * pulumi-zilliz-stages: Zilliz Cloud stages as code.
 *
 * - `Stage` and `StagedFiles`: the Pulumi resources.
 * - `StageClient` (on `RestClient`): a typed client for the REST API.
 * - `scanSource`, `planChanges`, `executeUpload`, `deleteObjects`: the upload engine the resources use.
 * - The error family every failure belongs to, the retry policy and the endpoint rules.
 *
 * The local emulator lives at `pulumi-zilliz-stages/emulator`.
 */
export * from "./errors";
export * from "./retry";
export * from "./endpoint";
export * from "./resources";
export * from "./client";
export * from "./upload";
