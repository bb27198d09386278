/**
 * pulumi-zilliz-stages: Zilliz Cloud volumes and stages as code.
 *
 * - `Volume` and `VolumeFiles`, `Stage` and `StagedFiles`: the Pulumi resources.
 * - `ZillizClient` (on `RestClient`; `StageClient` is its old name): a typed client for the stage and volume APIs.
 * - `scanSource`, `planChanges`, `executeUpload`, `deleteFiles`: the upload engine the resources use.
 * - The error family every failure belongs to, the retry policy and the endpoint rules.
 *
 * The local emulator lives at `pulumi-zilliz-stages/emulator`.
 */
export * from "./errors";
export { classifyFailure, withRetry, DEFAULT_RETRY } from "./retry";
export type { Failure, FailureClass, RetryOptions, RetryPolicy } from "./retry";
export { DEFAULT_ENDPOINT, isLoopback, parseEndpoint } from "./endpoint";
export * from "./resources";
export * from "./client";
export * from "./upload";
