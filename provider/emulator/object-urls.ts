/**
 * Imports from the user's own bucket (`objectUrls` with `accessKey` and
 * `secretKey`): the emulator reads the objects from another S3 endpoint,
 * signing every request with the keys the import was given (SigV4, by the
 * AWS SDK), so a store that checks signatures sees the user's keys, and a
 * wrong key, a missing object or a store that does not answer fails the job
 * with a reason, as the service would.
 *
 * Where a URL points: `s3://bucket/key` at the endpoint a test names (the
 * `objectUrlEndpoint` option, `--object-url-endpoint`, or the admin route),
 * path-style; `http(s)://host:port/bucket/key` directly, on loopback only
 * (the emulator reaches out to nothing else). `gs://` is not emulated.
 *
 * The keys stay in memory, per job, never in the data directory: a job the
 * emulator resumes after a restart cannot read its objects and fails saying
 * so (the one place the emulator does not resume a job).
 */
import { randomBytes } from "node:crypto";
import type * as S3Sdk from "@aws-sdk/client-s3";
import { httpStatus, s3ErrorCode, s3Sdk } from "../upload/s3";
import type { StagedFiles, StagedSource } from "./import-files";

/** The region requests are signed for: the user's bucket is not the emulator's, and S3-compatible stores take any. */
export const OBJECT_URL_REGION = "us-east-1";

export interface BucketKeys {
  accessKey: string;
  secretKey: string;
  /** Short-term keys' session token (pymilvus's `token`). */
  token?: string;
}

/** Where a job reads: a stage or volume of the emulator, or objects of a bucket (`name` is the id of its keys). */
export interface JobSource {
  kind: StagedSource["kind"] | "objects";
  name: string;
}

/** The files of any job source; `list` may go over the network. */
export interface JobFiles {
  exists(source: JobSource): boolean;
  read(source: JobSource, path: string): Promise<Buffer | undefined>;
  list(source: JobSource, dir: string): string[] | Promise<string[]>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export class ObjectUrlFiles {
  private readonly keys = new Map<string, BucketKeys>();

  /** @param endpoint where `s3://` URLs are read, e.g. http://127.0.0.1:9000; none: such an import fails saying how to set one. */
  constructor(public endpoint?: string) {}

  /** Keeps the keys of one import in memory; the job's source names them by the id returned. */
  register(keys: BucketKeys): string {
    const id = "keys-" + randomBytes(9).toString("hex");
    this.keys.set(id, keys);
    return id;
  }

  /** The URLs of the objects under the folder URL `dir` (ending in "/"), in key order. */
  async list(source: JobSource, dir: string): Promise<string[]> {
    const { ListObjectsV2Command } = s3Sdk();
    const at = this.locate(dir);
    const out: string[] = [];
    await this.withClient(source, at, dir, async (s3) => {
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: at.bucket, Prefix: at.key, ContinuationToken }));
        for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith("/")) out.push(at.base + o.Key);
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    });
    return out.sort();
  }

  /** The object's bytes, undefined when there is none; any other failure throws with the reason. */
  async read(source: JobSource, url: string): Promise<Buffer | undefined> {
    const { GetObjectCommand } = s3Sdk();
    const at = this.locate(url);
    return this.withClient(source, at, url, async (s3) => {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
        return Buffer.from(await res.Body!.transformToByteArray());
      } catch (err) {
        if (s3ErrorCode(err) === "NoSuchKey" || (httpStatus(err) === 404 && s3ErrorCode(err) !== "NoSuchBucket")) return undefined;
        throw err;
      }
    });
  }

  /** Bucket, key, the endpoint that serves them, and the URL prefix that names the bucket's objects. */
  private locate(url: string): { endpoint: string; bucket: string; key: string; base: string } {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/(.*)$/i.exec(url);
    if (!m) throw new Error(`${url} is not an object URL`);
    const [, scheme, authority, rest] = m;
    if (scheme.toLowerCase() === "s3") {
      if (!this.endpoint) {
        throw new Error(`cannot read ${url}: this emulator has no endpoint for s3:// URLs (start it with --object-url-endpoint <url>, or PUT /__emulator/object-url-endpoint)`);
      }
      return { endpoint: this.endpoint, bucket: authority, key: rest, base: `s3://${authority}/` };
    }
    if (/^https?$/i.test(scheme)) {
      const host = authority.replace(/:\d+$/, "");
      if (!LOOPBACK.has(host.toLowerCase())) throw new Error(`cannot read ${url}: the emulator reads http(s) object URLs on 127.0.0.1 or localhost only`);
      const slash = rest.indexOf("/");
      if (slash <= 0) throw new Error(`cannot read ${url}: give it as ${scheme}://${authority}/<bucket>/<key> (path-style)`);
      const bucket = rest.slice(0, slash);
      return { endpoint: `${scheme}://${authority}`, bucket, key: rest.slice(slash + 1), base: `${scheme}://${authority}/${bucket}/` };
    }
    throw new Error(`cannot read ${url}: the emulator reads s3:// and http(s):// object URLs, not ${scheme}://`);
  }

  /** Runs `use` with a client signing with the source's keys; turns its failures into reasons that name the URL and never a key. */
  private async withClient<T>(source: JobSource, at: { endpoint: string; bucket: string }, url: string, use: (s3: S3Sdk.S3Client) => Promise<T>): Promise<T> {
    const keys = this.keys.get(source.name);
    if (!keys) {
      throw new Error(`cannot read ${url}: the emulator restarted since this import was created and keeps no bucket keys on disk; start the import again`);
    }
    const { S3Client } = s3Sdk();
    const s3 = new S3Client({
      endpoint: at.endpoint,
      region: OBJECT_URL_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey, ...(keys.token ? { sessionToken: keys.token } : {}) },
      // One attempt: the job fails with the store's answer instead of waiting through retries.
      maxAttempts: 1,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    try {
      return await use(s3);
    } catch (err) {
      throw new Error(reasonOf(err, url, at));
    } finally {
      s3.destroy();
    }
  }
}

/** A store's refusal or silence, as the job's reason. By the S3 error code only: S3's error bodies quote the access key id. */
function reasonOf(err: unknown, url: string, at: { endpoint: string; bucket: string }): string {
  const code = s3ErrorCode(err);
  const status = httpStatus(err);
  if (code === "NoSuchBucket") return `cannot read ${url}: bucket ${at.bucket} does not exist`;
  if (status === 401 || status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken/.test(code)) {
    return `cannot read ${url}: access denied (${code}): the accessKey and secretKey given cannot read it`;
  }
  if (status === undefined) return `cannot read ${url}: the object store at ${at.endpoint} did not answer (${code})`;
  return `cannot read ${url}: the object store answered HTTP ${status} (${code})`;
}

/** One view of every job source: the emulator's stages and volumes, and buckets by object URL. */
export function jobFiles(staged: StagedFiles, objects: ObjectUrlFiles): JobFiles {
  const isObjects = (source: JobSource) => source.kind === "objects";
  return {
    // A bucket's existence shows only when it is read.
    exists: (source) => isObjects(source) || staged.exists(source as StagedSource),
    read: (source, p) => (isObjects(source) ? objects.read(source, p) : staged.read(source as StagedSource, p)),
    list: (source, dir) => (isObjects(source) ? objects.list(source, dir) : staged.list(source as StagedSource, dir)),
  };
}
