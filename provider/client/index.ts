export * from "./schemas";
export { RestClient } from "./rest";
export type { ApiRequest, RestClientOptions } from "./rest";
export { StageClient } from "./stage-client";
export type { StageClientOptions } from "./stage-client";
export { isNotFound, isAlreadyExists, STAGE_EXISTS_CODE, STAGE_NOT_FOUND_CODE, INVALID_API_KEY_CODE } from "./api-errors";
