export { Stage } from "./stage";
export type { StageArgs, ConnectionArgs } from "./stage";
export { StagedFiles } from "./staged-files";
export type { StagedFilesArgs } from "./staged-files";
export { ImportJob } from "./import-job";
export type { ImportJobArgs } from "./import-job";
export { DEFAULT_TIMEOUT_SECONDS as IMPORT_JOB_DEFAULT_TIMEOUT_SECONDS } from "./import-job-inputs";
