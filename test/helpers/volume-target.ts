// A volume on the emulator as a plain HTTP client meets it: created and
// applied for over the REST API with fetch, not with the provider's client
// (the emulator tests check the emulator, and the client is checked against
// it), and an AWS S3 client holding the volume's temporary credentials.
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

/** What `/v2/volumes/apply` answers. */
export interface VolumeTarget {
  endpoint: string;
  bucketName: string;
  region: string;
  cloud: string;
  volumePrefix: string;
  uploadPath: string;
  credentials: { tmpAK: string; tmpSK: string; sessionToken: string; expireTime: string };
}

/** Where the REST API listens and the API key it takes (an Emulator is one). */
export interface RestAt {
  url: string;
  apiKey: string;
}

/** A POST of `body` as JSON with the API key, and the answer's envelope. */
export async function postJson<T = any>(at: RestAt, path: string, body: unknown): Promise<{ code: number; message: string; data: T }> {
  const res = await fetch(`${at.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${at.apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { code: number; message: string; data: T };
}

/** Creates a managed volume and applies for its whole prefix; fails the test when either call is refused. */
export async function volumeTarget(at: RestAt, volumeName: string, where: { projectId?: string; regionId?: string } = {}): Promise<VolumeTarget> {
  const created = await postJson(at, "/v2/volumes/create", { projectId: "p", regionId: "aws-us-west-2", ...where, volumeName });
  expect(created.code).toBe(0);
  const applied = await postJson<VolumeTarget>(at, "/v2/volumes/apply", { volumeName, path: "" });
  expect(applied.code).toBe(0);
  return applied.data;
}

/** The target's temporary credentials as the AWS SDK takes them. */
export function credentialsOf(t: VolumeTarget): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return { accessKeyId: t.credentials.tmpAK, secretAccessKey: t.credentials.tmpSK, sessionToken: t.credentials.sessionToken };
}

/**
 * An S3 client on the target's endpoint with its credentials, path-style, and
 * one attempt (a test reads each refusal as the store gave it, not after
 * retries); `config` overrides any of that.
 */
export function s3For(t: VolumeTarget, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ endpoint: t.endpoint, region: t.region, forcePathStyle: true, maxAttempts: 1, credentials: credentialsOf(t), ...config });
}
