/**
 * Object and part uploads (PutObject, UploadPart) on a lean path: SigV4 from
 * @smithy/signature-v4 (the signer the AWS SDK itself uses) and undici.
 *
 * Why not the SDK's PutObjectCommand: most files of a typical stage are
 * small, and the SDK's per-request middleware stack cost ~1.7 ms of CPU per
 * 32 KiB file in the benchmark, more than the hashing, on a machine where
 * the CPU is the limit. This path also hands the signer the SHA-256 the
 * engine already verified (x-amz-content-sha256), so the payload is not
 * hashed a second time; parts go unsigned (putPart says why). Starting and
 * completing a multipart upload, deletes and listings stay on the SDK.
 *
 * Failures are shaped like the SDK's (`name`/`Code`, `$metadata.httpStatusCode`,
 * `$response.headers`), so one retry policy classifies both.
 */
import { crc32 } from "node:zlib";
import type { SignatureV4 } from "@smithy/signature-v4";
import type { Agent } from "undici";
import { NodeSha256 } from "../sha256";
import type { UploadTargetCache } from "./credentials";
import { metadataHeader, type ObjectOwner, objectMetadata } from "./object-metadata";
import { bearerHeaders } from "./s3";

export interface PutObjectRequest {
  bucket: string;
  key: string;
  body: Buffer;
  /** Hex SHA-256 of `body`, already verified by the caller. */
  sha256: string;
  /** The resource writing it; its mark goes with the object. */
  owner?: ObjectOwner;
}

export interface PutPartRequest {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  body: Buffer;
  /**
   * The part's CRC32 as the scan computed it from the bytes it hashed: sent
   * instead of the body's own, so the store refuses the part if the bytes
   * are not those (multipart.ts). Computed from `body` when absent.
   */
  crc32?: number;
  /** Stops the request (the run is stopping); a part can take minutes. */
  signal?: AbortSignal;
}

/** What the store accepted for one part: its ETag, and the checksum sent with it (for CompleteMultipartUpload). */
export interface PutPartResult {
  etag: string | undefined;
  crc32?: string;
}

export interface ObjectPutterOptions {
  endpoint: URL;
  region: string;
  /** Bucket in the path (loopback, IP endpoints) rather than in the host name. */
  pathStyle: boolean;
  /** `sigv4` (AWS, Aliyun) or `bearer`: the session token as an OAuth access token (Google Cloud). */
  auth: "sigv4" | "bearer";
  maxSockets: number;
  /** No response headers (or body bytes) for this long: the request fails and is retried. */
  requestTimeoutMs: number;
  /**
   * `crc32`: each part carries `x-amz-checksum-crc32` for the store to check
   * (AWS S3, the emulator). `none`: stores whose S3 dialect is not known to
   * take S3's flexible checksums (OSS, the GCS XML API) get the part as
   * pymilvus sends it, unsigned over TLS.
   */
  partChecksum: "crc32" | "none";
}

/** S3's form of a CRC32 value: the four bytes, big-endian, in base64. */
export function crc32Text(value: number): string {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value);
  return out.toString("base64");
}

/** The CRC32 of `body` in S3's form. */
export function crc32Base64(body: Buffer): string {
  return crc32Text(crc32(body));
}

/** RFC 3986 encoding, as SigV4 canonicalises: everything but A-Z a-z 0-9 - . _ ~ */
function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** S3 encodes each key segment on its own; the slashes stay. */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeSegment).join("/");
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
function xmlText(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body);
  return m?.[1].replace(/&(amp|lt|gt|quot|apos);|&#(\d+);/g, (_, name, code) => (name ? XML_ENTITIES[name] : String.fromCharCode(Number(code))));
}

/** An S3 error answer as the SDK would raise it. */
export function s3Error(status: number, headers: Record<string, string | string[] | undefined>, body: string): Error {
  const code = xmlText(body, "Code") ?? (status === 403 ? "Forbidden" : status >= 500 ? "InternalError" : `HTTP${status}`);
  const message = xmlText(body, "Message") ?? `the store answered HTTP ${status}`;
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(",") : v;
  return Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode: status }, $response: { headers: flat } });
}

export class ObjectPutter {
  private readonly dispatcher: Agent;
  private readonly signer: SignatureV4;

  constructor(
    private readonly targets: UploadTargetCache,
    private readonly options: ObjectPutterOptions,
  ) {
    // Loaded by the first run that sends a file, not at import: a process
    // that only plans (check, diff, a preview) never pays for them; undici
    // alone is about 30 MiB of RSS (its HTTP parser is WebAssembly).
    const { Agent } = require("undici") as typeof import("undici");
    const { SignatureV4 } = require("@smithy/signature-v4") as typeof import("@smithy/signature-v4");
    this.dispatcher = new Agent({
      connections: options.maxSockets,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
    // One signer for the run: it caches signing keys per credential and day.
    // Credentials come from the run's cache on every request, as for the SDK client.
    this.signer = new SignatureV4({
      service: "s3",
      region: options.region,
      credentials: async () => {
        const c = (await targets.get()).credentials;
        return { accessKeyId: c.tmpAK, secretAccessKey: c.tmpSK, sessionToken: c.sessionToken };
      },
      sha256: NodeSha256,
      // S3 signs the path exactly as sent; the key is encoded once, here.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** Stores one object; resolves with its ETag. */
  async put(req: PutObjectRequest): Promise<string | undefined> {
    const headers: Record<string, string> = {
      // Present, so the signer uses it instead of hashing the body again.
      "x-amz-content-sha256": req.sha256,
    };
    // Kept with the object, so a later run can recognise it and its owner (upload/recover.ts).
    const meta = objectMetadata(req.sha256, req.owner);
    for (const name of Object.keys(meta)) headers[metadataHeader(name)] = meta[name];
    return this.send(req.bucket, req.key, {}, headers, req.body);
  }

  /**
   * Sends one part of a multipart upload, unsigned, with its CRC32 for the
   * store to check when `crc32` is given; resolves with the part's ETag.
   *
   * Why unsigned: a signed payload means a SHA-256 of every part, a second
   * pass over bytes the plan already hashed, and for large files the
   * client's CPU is the cost users see. TLS protects the bytes in transit
   * (plain http is allowed only to loopback, endpoint.ts), the store
   * checks the part against its CRC32 (S3's flexible checksums, a tenth of
   * the cost), and the whole file's SHA-256 is still what the object
   * records and what the upload verifies (multipart.ts).
   */
  async putPart(req: PutPartRequest): Promise<PutPartResult> {
    const headers: Record<string, string> = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
    const crc32 = this.options.partChecksum !== "crc32" ? undefined : req.crc32 !== undefined ? crc32Text(req.crc32) : crc32Base64(req.body);
    if (crc32 !== undefined) headers["x-amz-checksum-crc32"] = crc32;
    const query = { partNumber: String(req.partNumber), uploadId: req.uploadId };
    const etag = await this.send(req.bucket, req.key, query, headers, req.body, req.signal);
    return { etag, crc32 };
  }

  /** Whether parts carry a checksum, which the multipart upload must then declare when it starts. */
  get partChecksum(): "crc32" | "none" {
    return this.options.partChecksum;
  }

  private async send(
    bucket: string,
    key: string,
    query: Record<string, string>,
    extra: Record<string, string>,
    body: Buffer,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const { endpoint, pathStyle } = this.options;
    const host = pathStyle ? endpoint.host : `${bucket}.${endpoint.host}`;
    const path = `${pathStyle ? `/${encodeURIComponent(bucket)}` : ""}/${encodeKeyPath(key)}`;
    const search = Object.keys(query)
      .sort()
      .map((name) => `${encodeSegment(name)}=${encodeSegment(query[name])}`)
      .join("&");
    const headers: Record<string, string> = { host, "content-length": String(body.length), ...extra };
    const res = await this.dispatcher.request({
      origin: `${endpoint.protocol}//${host}`,
      path: search ? `${path}?${search}` : path,
      method: "PUT",
      headers: await this.authenticate(headers, path, query, host),
      body,
      signal,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const etag = res.headers.etag;
      return Array.isArray(etag) ? etag[0] : etag;
    }
    throw s3Error(res.statusCode, res.headers, text);
  }

  private async authenticate(headers: Record<string, string>, path: string, query: Record<string, string>, host: string): Promise<Record<string, string>> {
    if (this.options.auth === "bearer") return bearerHeaders(headers, (await this.targets.get()).credentials.sessionToken);
    const { endpoint } = this.options;
    const signed = await this.signer.sign({
      method: "PUT",
      protocol: endpoint.protocol,
      hostname: host.replace(/:\d+$/, ""),
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      query,
      headers,
    });
    return signed.headers;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
