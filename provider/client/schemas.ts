/**
 * The wire format of the Zilliz Cloud stage API, as zod schemas. The client
 * parses every response with these; the emulator answers with the same
 * shapes, so the two cannot drift apart.
 */
import { z } from "zod";

/**
 * Stage names: letters, digits, `_` and `-`, starting with a letter or `_`,
 * at most 64 characters. The emulator enforces the same rule the resources
 * check, so a name that passes `pulumi preview` is not refused later.
 */
export const STAGE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const STAGE_NAME_MAX_LENGTH = 64;

export const stageNameSchema = z
  .string()
  .min(1, "must not be empty")
  .max(STAGE_NAME_MAX_LENGTH, `must be at most ${STAGE_NAME_MAX_LENGTH} characters`)
  .regex(STAGE_NAME_PATTERN, "must start with a letter or '_' and contain only letters, digits, '_' and '-'");

/**
 * Project ids become part of object keys (`stages/<projectId>/<name>/`), so
 * they follow the name rule too: without a `/` in either part, two
 * different (project, name) pairs can never give prefixes where one starts
 * with the other. The service's ids (`proj-xxxxxxxx`) pass.
 */
export const projectIdSchema = z
  .string()
  .min(1, "must be a Zilliz Cloud project ID such as proj-xxxxxxxx")
  .max(STAGE_NAME_MAX_LENGTH, `must be at most ${STAGE_NAME_MAX_LENGTH} characters (a Zilliz Cloud project ID such as proj-xxxxxxxx)`)
  .regex(STAGE_NAME_PATTERN, "must be a Zilliz Cloud project ID such as proj-xxxxxxxx: a letter or '_' first, then only letters, digits, '_' and '-'");

/** The envelope every call answers with. `data` is checked per call. */
export const envelopeSchema = z.object({
  code: z.number().int(),
  message: z.string().optional(),
  data: z.unknown().optional(),
  /** Some answers carry the service's id for the request; errors quote it. */
  requestId: z
    .union([z.string(), z.number()])
    .transform(String)
    .optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

export const createStageRequestSchema = z.object({
  projectId: projectIdSchema,
  regionId: z.string().min(1),
  stageName: stageNameSchema,
});
export type CreateStageRequest = z.infer<typeof createStageRequestSchema>;

export const stageRefSchema = z.object({ stageName: z.string() });
export type StageRef = z.infer<typeof stageRefSchema>;

export const listStagesDataSchema = z.object({
  count: z.number().int().nonnegative(),
  currentPage: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  stages: z.array(stageRefSchema.passthrough()),
});
export type StagePage = z.infer<typeof listStagesDataSchema>;

export const applyRequestSchema = z.object({
  stageName: stageNameSchema,
  /** A directory inside the stage: "" or ending in "/". */
  path: z.string(),
});
export type ApplyRequest = z.infer<typeof applyRequestSchema>;

export const credentialsSchema = z.object({
  tmpAK: z.string().min(1),
  tmpSK: z.string().min(1),
  sessionToken: z.string().min(1),
  /** ISO-8601, UTC. */
  expireTime: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO-8601 date"),
});
export type StageCredentials = z.infer<typeof credentialsSchema>;

/**
 * What `apply` returns, for a stage or a volume: the name and the key prefix
 * come under the dialect's names (`stageName`/`stagePrefix` or
 * `volumeName`/`volumePrefix`, the emulator sends both prefixes), and
 * `prefix` is whichever was given, so the upload engine reads one field.
 */
export const applyDataSchema = z
  .object({
    stageName: z.string().optional(),
    volumeName: z.string().optional(),
    stagePrefix: z.string().optional(),
    volumePrefix: z.string().optional(),
    /** `host[:port]` without a scheme (always https), or a URL (the emulator without TLS). */
    endpoint: z.string().min(1),
    bucketName: z.string().min(1),
    region: z.string().min(1),
    /** aws (and unknown values): SigV4; gcp: a Bearer token to the GCS XML API; ali: an OSS endpoint from the region. */
    cloud: z.string().optional(),
    /** Older SDKs build keys from it; the engine uses the prefix. */
    uploadPath: z.string().optional(),
    condition: z.object({
      /** Bytes per upload; 0 or absent: no limit given. */
      maxContentLength: z.number().nonnegative(),
      /** Files per upload (volumes); 0 or absent: no limit given. */
      maxFileNumber: z.number().int().nonnegative().optional(),
    }),
    credentials: credentialsSchema,
  })
  .refine((d) => d.stagePrefix !== undefined || d.volumePrefix !== undefined, { message: "must carry stagePrefix or volumePrefix", path: ["volumePrefix"] })
  .transform((d) => ({ ...d, prefix: (d.volumePrefix ?? d.stagePrefix) as string }));
/** What `apply` returns: where to put the bytes and the temporary keys to do it with. */
export type StageUploadTarget = z.output<typeof applyDataSchema>;
/** The same answer, named for what it is whichever dialect gave it. */
export type UploadTarget = StageUploadTarget;
