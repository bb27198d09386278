export { Stage } from "./stage";
export type { StageArgs, ConnectionArgs, ContainerArgs } from "./stage";
export { StagedFiles, FilesResource } from "./staged-files";
export type { StagedFilesArgs, FilesArgs } from "./staged-files";
export { Volume } from "./volume";
export type { VolumeArgs } from "./volume";
export { VolumeFiles } from "./volume-files";
export type { VolumeFilesArgs } from "./volume-files";
