export { Stage } from "./stage";
export type { StageArgs, ConnectionArgs } from "./stage";
export { StagedFiles } from "./staged-files";
export type { StagedFilesArgs } from "./staged-files";
