/**
 * The records the emulator keeps in its data directory (state.json, one
 * JSON per object, one per pending multipart upload), as zod schemas:
 * read back at every start, including data directories of older versions.
 */
import { z } from "zod";
import { VOLUME_TYPES } from "../client/volume-schemas";

/** The clouds an apply answer can name; the object endpoint authenticates each as its store does. */
export type Cloud = "aws" | "gcp";

/** A stage is a MANAGED volume: both APIs read and write these records. */
const volumeRecordSchema = z.object({
  projectId: z.string(),
  regionId: z.string(),
  volumeName: z.string(),
  type: z.enum(VOLUME_TYPES),
  storageIntegrationId: z.string().optional(),
  path: z.string().optional(),
  /** Object keys of a managed volume start with this; "" for external ones (their files are not ours). */
  prefix: z.string(),
  createdAt: z.number(),
  description: z.string().optional(),
  /** Absent: available. Set through the admin API (a frozen organization) to test clients. */
  status: z.string().optional(),
});
export type VolumeRecord = z.infer<typeof volumeRecordSchema>;

/** The stage record of data directories written before volumes existed. */
const legacyStageSchema = z.object({ projectId: z.string(), regionId: z.string(), stageName: z.string(), prefix: z.string(), createdAt: z.number() });

const credentialRecordSchema = z.object({
  accessKeyId: z.string(),
  secretAccessKey: z.string(),
  sessionToken: z.string(),
  expireTime: z.number(),
  volumeName: z.string(),
  prefix: z.string(),
  /** aws: SigV4 with the key pair; gcp: the session token as a Bearer token, no SigV4. */
  cloud: z.enum(["aws", "gcp"]).default("aws"),
});
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;

export const stateSchema = z.object({
  volumes: z.array(volumeRecordSchema).default([]),
  stages: z.array(legacyStageSchema).default([]),
  // Older files name the volume `stageName`.
  credentials: z.array(
    z.preprocess((c) => (c && typeof c === "object" && "stageName" in c ? { ...c, volumeName: c.stageName } : c), credentialRecordSchema),
  ),
});

export const objectMetaSchema = z.object({
  key: z.string(),
  /** The content file in objects/; absent in data directories of older emulators (then `<keyId>.bin`). */
  content: z.string().optional(),
  size: z.number(),
  etag: z.string(),
  lastModified: z.number(),
  /** x-amz-meta-* headers, which sync tools use to keep modification times. */
  metadata: z.record(z.string(), z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

export const uploadSchema = z.object({
  uploadId: z.string(),
  key: z.string(),
  createdAt: z.number(),
  /** `checksum`: the part's flexible checksum (base64) when it was sent with one. */
  parts: z.record(z.string(), z.object({ etag: z.string(), size: z.number(), checksum: z.string().optional() })),
  /** x-amz-meta-* given when the upload was created; the completed object carries them. */
  metadata: z.record(z.string(), z.string()).optional(),
  /** The flexible-checksum algorithm the upload declared (lower case): every part must carry it. */
  checksumAlgorithm: z.string().optional(),
});
export type UploadRecord = z.infer<typeof uploadSchema>;
