export * from "./schemas";
export * from "./import-schemas";
export * from "./retry";
export type { StageClientOptions } from "./stage-client";
export {
  StageClient,
  DEFAULT_ENDPOINT,
  isStageNotFound,
  isLoopback,
  parseEndpoint,
  STAGE_EXISTS_CODE,
  STAGE_NOT_FOUND_CODE,
} from "./stage-client";
