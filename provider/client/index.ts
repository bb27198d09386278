export * from "./schemas";
export * from "./import-schemas";
export { RestClient } from "./rest";
export type { ApiRequest, RestClientOptions } from "./rest";
export { StageClient } from "./stage-client";
export type { StageClientOptions } from "./stage-client";
export { isNotFound, isAlreadyExists } from "./api-errors";
export * from "./api-codes";
