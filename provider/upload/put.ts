/**
 * Single-request uploads (PutObject) on a lean path: SigV4 from
 * @smithy/signature-v4 (the signer the AWS SDK itself uses) and undici.
 *
 * Why not the SDK's PutObjectCommand: most files of a typical stage are
 * small, and the SDK's per-request middleware stack cost ~1.7 ms of CPU per
 * 32 KiB file in the benchmark, more than the hashing, on a machine where
 * the CPU is the limit. This path also hands the signer the SHA-256 the
 * engine already verified (x-amz-content-sha256), so the payload is not
 * hashed a second time. Multipart, deletes and listings stay on the SDK.
 *
 * Failures are shaped like the SDK's (`name`/`Code`, `$metadata.httpStatusCode`,
 * `$response.headers`), so one retry policy classifies both.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { Agent } from "undici";
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
}

/** S3 encodes each key segment per RFC 3986: everything but A-Z a-z 0-9 - . _ ~ */
function encodeKeyPath(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
function xmlText(body: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body);
  return m?.[1].replace(/&(amp|lt|gt|quot|apos);|&#(\d+);/g, (_, name, code) => (name ? XML_ENTITIES[name] : String.fromCharCode(Number(code))));
}

/** An S3 error answer as the SDK would raise it. */
function s3Error(status: number, headers: Record<string, string | string[] | undefined>, body: string): Error {
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
    const { endpoint, pathStyle } = this.options;
    const host = pathStyle ? endpoint.host : `${req.bucket}.${endpoint.host}`;
    const path = `${pathStyle ? `/${encodeURIComponent(req.bucket)}` : ""}/${encodeKeyPath(req.key)}`;
    const headers: Record<string, string> = {
      host,
      "content-length": String(req.body.length),
      // Present, so the signer uses it instead of hashing the body again.
      "x-amz-content-sha256": req.sha256,
    };
    // Kept with the object, so a later run can recognise it and its owner (upload/recover.ts).
    const meta = objectMetadata(req.sha256, req.owner);
    for (const name of Object.keys(meta)) headers[metadataHeader(name)] = meta[name];
    const res = await this.dispatcher.request({
      origin: `${endpoint.protocol}//${host}`,
      path,
      method: "PUT",
      headers: await this.authenticate(headers, path, host),
      body: req.body,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const etag = res.headers.etag;
      return Array.isArray(etag) ? etag[0] : etag;
    }
    throw s3Error(res.statusCode, res.headers, text);
  }

  private async authenticate(headers: Record<string, string>, path: string, host: string): Promise<Record<string, string>> {
    if (this.options.auth === "bearer") return bearerHeaders(headers, (await this.targets.get()).credentials.sessionToken);
    const { endpoint } = this.options;
    const signed = await this.signer.sign({
      method: "PUT",
      protocol: endpoint.protocol,
      hostname: host.replace(/:\d+$/, ""),
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      query: {},
      headers,
    });
    return signed.headers;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
