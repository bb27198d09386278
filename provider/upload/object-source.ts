/**
 * A source in another object store: `s3://bucket/prefix/` (AWS S3 or any
 * S3-compatible store) or `gs://bucket/prefix/` (Google Cloud Storage
 * through its XML API, which speaks S3's protocol with HMAC keys).
 *
 * Listed without reading an object (key, size, ETag, LastModified), so a
 * plan and a preview cost one ListObjectsV2 per 1,000 objects. The bytes are
 * read only by an `up`: once to hash (SHA-256 and part CRC32s, as a local
 * file's scan does) and once to send, every read pinned to the ETag the
 * listing saw (If-Match), and the sent bytes checked against the hash as a
 * local file's are. Nothing goes to disk; memory is the parts in flight.
 *
 * Credentials are never inputs: for `s3://`, the AWS SDK's default chain
 * (environment, shared config and profiles, web identity, container and
 * instance roles); for `gs://`, an access token or an HMAC key from the
 * environment (gcs-credentials.ts). They stay in this process: not in the state, the
 * logs or an error.
 *
 * This module is the client (listing, reading, credentials, errors);
 * object-location.ts parses the URL, object-reads.ts hashes and streams.
 */import * as http from "node:http";
import * as https from "node:https";
import type * as S3Sdk from "@aws-sdk/client-s3";
import type * as SmithyHttpHandler from "@smithy/node-http-handler";
import { parseEndpoint } from "../endpoint";
import { ZillizFileChangedError, ZillizStageError, ZillizStoreError, ZillizTransportError, ZillizValidationError } from "../errors";
import { DEFAULT_RETRY, withRetry } from "../retry";
import { GCS_CREDENTIALS_HINT, gcsAccessToken, gcsCredentials } from "./gcs-credentials";
import type { GlobFilter } from "./glob-filter";
import { checkRelativePath } from "./keys";
import type { ManifestEntry } from "./manifest";
import type { ObjectLocation, ObjectSourceSettings } from "./object-location";
import type { GetResponse } from "./http-get";
import { ObjectGetter } from "./object-get";
import { classifyS3, httpStatus, responseHeader, s3ErrorCode, s3Sdk, useBearerToken } from "./s3";

export { isObjectSource, parseObjectSource } from "./object-location";
export type { ObjectLocation, ObjectSourceSettings } from "./object-location";
export { hashObject, objectPlannedSource } from "./object-reads";

/** One object the listing found, relative to the prefix. */
export interface ListedObject {
  rel: string;
  size: number;
  /** LastModified (ms). */
  mtimeMs: number;
  etag: string;
}

function sourceError(err: unknown, operation: string, attempts?: number): unknown {
  if (err instanceof ZillizStageError) return err;
  const code = s3ErrorCode(err);
  const status = httpStatus(err);
  const text = String((err as Error)?.message ?? err).replace(/^AWS SDK error wrapper for [A-Za-z_]\w*:\s*/, "");
  // Only the code and the store's sentence: S3 error bodies may quote the access key.
  const fix =
    code === "AccessDenied" || code === "InvalidAccessKeyId" || code === "SignatureDoesNotMatch" || status === 401 || status === 403
      ? `; the source's credentials come from the AWS default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity) for s3:// and from ${GCS_CREDENTIALS_HINT} for gs://: check that they may list and read this bucket, and have not expired`
      : code === "NoSuchBucket"
        ? "; check the bucket in source (and sourceEndpoint for a store other than AWS)"
        : "";
  const description = `${operation} on the source failed: ${text.startsWith(code) ? text : `${code}: ${text}`}${fix}`;
  if (status === undefined && !(err as { Code?: string })?.Code) return new ZillizTransportError(operation, description, { cause: err, attempts });
  return new ZillizStoreError({ operation, storeCode: code, description, status, requestId: responseHeader(err, "x-amz-request-id"), attempts, cause: err });
}

/**
 * A client for one object source, with the package's retry policy (an
 * expired credential is fetched again from the chain at once). `close` it.
 */
export class ObjectSourceClient {
  private readonly s3: S3Sdk.S3Client;
  /** Reads (object-get.ts); the SDK client lists. */
  private readonly getter: ObjectGetter;
  private refresh = false;

  constructor(
    readonly location: ObjectLocation,
    settings: ObjectSourceSettings,
    private readonly signal?: AbortSignal,
  ) {
    const { S3Client } = s3Sdk();
    const { NodeHttpHandler } = require("@smithy/node-http-handler") as typeof SmithyHttpHandler;
    const gs = location.scheme === "gs";
    const endpoint = settings.sourceEndpoint ?? (gs ? "https://storage.googleapis.com" : undefined);
    const url = endpoint === undefined ? undefined : parseEndpoint(endpoint, { field: "sourceEndpoint", example: "https://s3.example.com" });
    // sourceEndpoint is kept in the state and quoted in messages: no secret may ride in it.
    if (url && (url.username || url.password)) {
      throw new ZillizValidationError("sourceEndpoint", `must not carry a user or password (it is kept in the state); the source's credentials come from the AWS default chain, or for gs:// from ${GCS_CREDENTIALS_HINT}`);
    }
    const agent = { keepAlive: true, maxSockets: 16 };
    const region = settings.sourceRegion ?? (gs ? "auto" : process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1");
    const credentials = gs ? gcsCredentials() : this.awsChain()!;
    const config: S3Sdk.S3ClientConfig = {
      region,
      ...(url && { endpoint: url.origin }),
      forcePathStyle: settings.sourcePathStyle ?? (settings.sourceEndpoint !== undefined || gs),
      credentials,
      maxAttempts: 1,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    };
    this.s3 = new S3Client({
      ...config,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent(agent), httpsAgent: new https.Agent(agent), socketTimeout: 60_000, connectionTimeout: 10_000 }),
    });
    if (gs) useBearerToken(this.s3, async () => gcsAccessToken());
    this.getter = new ObjectGetter(location.bucket, { config, region, credentials, timeoutMs: 60_000, ...(gs && { bearerToken: gcsAccessToken }) });
  }

  /**
   * The AWS default chain, which caches what it found until shortly before
   * it expires; after a store said a credential expired, asked afresh. The
   * expiration the client sees is kept within its own refresh window, so
   * the client asks here on every request and the chain stays the one cache.
   */
  private awsChain(): S3Sdk.S3ClientConfig["credentials"] {
    const { defaultProvider } = require("@aws-sdk/credential-provider-node") as typeof import("@aws-sdk/credential-provider-node");
    const chain = defaultProvider();
    return async () => {
      const forceRefresh = this.refresh;
      this.refresh = false;
      const found = await chain({ forceRefresh });
      const expires = found.expiration?.getTime() ?? Infinity;
      return { ...found, expiration: new Date(Math.min(expires, Date.now() + 60_000)) };
    };
  }

  /** One request under the retry policy. */
  send<T>(operation: string, fn: (s3: S3Sdk.S3Client, signal?: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry<T>(() => fn(this.s3, this.signal), {
      policy: DEFAULT_RETRY,
      classify: classifyS3,
      shouldStop: () => this.signal?.aborted === true,
      beforeRetry: (_err, failure) => {
        if (failure.renewCredentials) this.refresh = true;
      },
      giveUp: (err, { attempts }) => sourceError(err, operation, attempts),
    });
  }

  /** Every object under the prefix that `filter` wants, sorted by relative path. */
  async list(filter: GlobFilter): Promise<ListedObject[]> {
    const { ListObjectsV2Command } = s3Sdk();
    const { bucket, prefix } = this.location;
    const out: ListedObject[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.send(`ListObjectsV2 ${this.url("")}`, (s3, abortSignal) =>
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken, EncodingType: "url" }), { abortSignal }),
      );
      // Keys come URL-encoded when the store honours EncodingType: a key with a control character survives the XML.
      const decode = (k: string) => (page.EncodingType === "url" ? decodeURIComponent(k.replace(/\+/g, " ")) : k);
      for (const o of page.Contents ?? []) {
        const key = decode(o.Key ?? "");
        const rel = key.slice(prefix.length);
        if (!key.startsWith(prefix)) continue;
        if (rel === "" || rel.endsWith("/")) {
          // A folder marker (a zero-byte "dir/" object the consoles create) holds no data; a key like it that does cannot be a file name.
          if ((o.Size ?? 0) === 0 || (rel !== "" && !filter.file(rel))) continue;
          throw new ZillizValidationError("source", `the object ${this.url(rel)} holds ${o.Size} bytes under a key ending in "/", which cannot be copied to a file; leave it out with \`exclude\``);
        }
        if (!filter.file(rel)) continue;
        if (rel.split("/").some((s) => s === "" || s === "." || s === "..")) {
          throw new ZillizValidationError("source", `the object ${this.url(rel)} has an empty, "." or ".." segment in its key and cannot be copied to a path; leave it out with \`exclude\``);
        }
        checkRelativePath(rel);
        if (!o.ETag) throw new ZillizValidationError("source", `the store listed ${this.url(rel)} without an ETag; an object source needs a store that gives ETags`);
        out.push({ rel, size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0, etag: o.ETag });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      // Stopping here would make every object past this page look removed, and an up would delete their copies.
      if (page.IsTruncated && !ContinuationToken) throw truncatedListing(this.url(""));
    } while (ContinuationToken);
    return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }

  /** `s3://bucket/prefix/rel`, for messages. */
  url(rel: string): string {
    return `${this.location.scheme}://${this.location.bucket}/${this.location.prefix}${rel}`;
  }

  /**
   * One GET of the version listed (If-Match its ETag), without its body
   * read: another version found there (the object was rewritten since the
   * listing, or removed) is a ZillizFileChangedError.
   */
  private async getOnce(rel: string, entry: Pick<ManifestEntry, "size" | "sha256"> & { etag: string }, offset: number): Promise<GetResponse> {
    let res: GetResponse;
    try {
      res = await this.getter.get(this.location.prefix + rel, entry.etag, offset, this.signal);
    } catch (err) {
      if (httpStatus(err) === 412 || s3ErrorCode(err) === "PreconditionFailed") throw new ZillizFileChangedError(this.url(rel), entry, "another version of the object (its ETag changed)");
      if (s3ErrorCode(err) === "NoSuchKey") throw new ZillizFileChangedError(this.url(rel), entry, "no object");
      throw err;
    }
    // A store that ignores If-Match still says which version it sent (quoted or not, as stores differ).
    const etag = res.headers.etag;
    if (etag !== undefined && bareEtag(etag) !== bareEtag(entry.etag)) {
      res.destroy();
      throw new ZillizFileChangedError(this.url(rel), entry, `another version of the object (ETag ${etag})`);
    }
    return res;
  }

  /**
   * Reads the whole object listed with `etag`, chunk by chunk into the sink
   * `begin` gives (each chunk a view valid only during the call): called
   * again when the read is retried, so it can start over. Resolves to the
   * object's size. Another version found there (the object was rewritten
   * since the listing) is a ZillizFileChangedError.
   */
  async read(rel: string, entry: Pick<ManifestEntry, "size" | "sha256"> & { etag: string }, begin: () => (chunk: Buffer) => void): Promise<number> {
    let total = 0;
    await this.send(`GetObject ${this.url(rel)}`, async () => {
      const res = await this.getOnce(rel, entry, 0);
      total = contentLength(res);
      const onChunk = begin();
      const got = await res.forEach(onChunk);
      // A body cut short is a broken connection: read again.
      if (got !== total) throw Object.assign(new Error(`the store sent ${got} of ${total} bytes`), { code: "ECONNRESET" });
    });
    return total;
  }

  /**
   * The object listed with `etag`, from byte `offset` to its end: one GET,
   * pinned as `read` pins it, whose body the caller reads (the request is
   * retried, the body is not). Its total size must be `entry.size`.
   */
  async stream(rel: string, entry: Pick<ManifestEntry, "size" | "sha256"> & { etag: string }, offset: number): Promise<GetResponse> {
    const res = await this.send(`GetObject ${this.url(rel)}`, () => this.getOnce(rel, entry, offset));
    let total = contentLength(res);
    if (offset > 0) {
      // A store may answer a range with the whole object (HTTP allows it): taking that for the rest would splice the start in.
      const contentRange = res.headers["content-range"];
      const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(contentRange ?? "");
      if (!range || Number(range[1]) !== offset) {
        res.destroy();
        throw new ZillizStoreError({
          operation: `GetObject ${this.url(rel)}`,
          storeCode: "RangeIgnored",
          description: `GetObject ${this.url(rel)} on the source failed: asked for bytes from ${offset} to resume a broken read, the store answered ${contentRange ? `with bytes ${contentRange}` : "with the whole object"}; nothing was stored for it. Run again`,
        });
      }
      total = Number(range[2]);
    }
    if (total !== entry.size) {
      res.destroy();
      throw new ZillizFileChangedError(this.url(rel), entry, `${total} bytes`);
    }
    return res;
  }

  close(): void {
    this.s3.destroy();
    this.getter.close();
  }
}

/** The answer's Content-Length; NaN without one (a chunked answer), which no listed size matches. */
function contentLength(res: GetResponse): number {
  const text = res.headers["content-length"];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
}

/** An ETag without its quotes or weak prefix: stores quote it in some answers and not in others. */
function bareEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** A listing that says it goes on but gives no way to ask for the rest (a store that only speaks ListObjectsV1). */
export function truncatedListing(where: string): ZillizStoreError {
  return new ZillizStoreError({
    operation: `ListObjectsV2 ${where}`,
    storeCode: "TruncatedWithoutToken",
    description: `ListObjectsV2 ${where} said the listing goes on but gave no continuation token, so the rest cannot be listed; refused rather than taken for all (the store must speak ListObjectsV2)`,
  });
}
