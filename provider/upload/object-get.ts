/**
 * An object source's GETs, signed with SigV4 by the AWS SDK's own signer and
 * sent through http-get.ts (bodies read into reused buffers), instead of
 * through the SDK's GetObjectCommand.
 *
 * Why: an object source is read object by object, and for 1,000 objects of
 * 256 KiB the SDK's per-request middleware stack and its per-read buffers
 * cost more CPU than the SHA-256 the engine must compute (issue 18's
 * benchmark). Where a request goes is still the SDK's answer: one
 * GetObject is built (never sent) by the source's S3 client, and its
 * host and path layout is reused for every key, so sourceEndpoint, path
 * style, AWS_ENDPOINT_URL_S3 and the region's endpoint mean what they mean
 * for the listing.
 */
import type * as S3Sdk from "@aws-sdk/client-s3";
import type { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../sha256";
import { type GetResponse, HttpGetClient } from "./http-get";
import { encodeKeyPath, s3Error } from "./put";
import { bearerHeaders, s3Sdk } from "./s3";

/** SHA-256 of an empty payload: what a GET signs as its body. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Where the store's URLs for this bucket go: what the SDK resolved for one key. */
interface Layout {
  protocol: string;
  hostname: string;
  port: number;
  /** The path before the key ("/bucket" in path style, "" in virtual-hosted style). */
  base: string;
  /** The host header: the port only when it is not the scheme's own. */
  host: string;
}

/** Thrown by the capturing handler once the SDK built its request. */
class Built extends Error {
  constructor(readonly request: { protocol: string; hostname: string; port?: number; path: string }) {
    super("built");
  }
}

export interface ObjectGetterOptions {
  /** The source's S3 client configuration: the same endpoint, style, region and credentials. */
  config: S3Sdk.S3ClientConfig;
  region: string;
  credentials: NonNullable<S3Sdk.S3ClientConfig["credentials"]>;
  timeoutMs: number;
  /** A gs:// source's access token, when the environment has one: sent as `Authorization: Bearer` in place of the signature. */
  bearerToken?: () => string | undefined;
}

/** Signed GETs of one bucket's objects. `close` it. */
export class ObjectGetter {
  private readonly http: HttpGetClient;
  private readonly signer: SignatureV4;
  private layout: Promise<Layout> | undefined;

  constructor(
    private readonly bucket: string,
    private readonly options: ObjectGetterOptions,
  ) {
    const { SignatureV4 } = require("@smithy/signature-v4") as typeof import("@smithy/signature-v4");
    this.http = new HttpGetClient({ timeoutMs: options.timeoutMs });
    // One signer for the client: it caches signing keys per credential and day;
    // the credentials are asked for on every request, as the SDK client does.
    this.signer = new SignatureV4({
      service: "s3",
      region: options.region,
      credentials: options.credentials as never,
      sha256: NodeSha256,
      // The key is encoded once, here, and signed as sent (S3's rule).
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** The SDK's URL layout for this bucket, learnt once from a GetObject it builds but does not send. */
  private resolveLayout(): Promise<Layout> {
    this.layout ??= (async () => {
      const { S3Client, GetObjectCommand } = s3Sdk();
      const probe = new S3Client({
        ...this.options.config,
        requestHandler: {
          handle: async (request: Built["request"]) => {
            throw new Built(request);
          },
        } as never,
      });
      try {
        await probe.send(new GetObjectCommand({ Bucket: this.bucket, Key: "k" }));
        throw new Error("the SDK sent a request it was only to build");
      } catch (err) {
        if (!(err instanceof Built)) throw err;
        const { protocol, hostname, port, path } = err.request;
        if (!path.endsWith("/k")) throw new Error(`the SDK built an unexpected GetObject path ${path}`);
        const https = protocol === "https:";
        const p = port ?? (https ? 443 : 80);
        const host = p === (https ? 443 : 80) ? hostname : `${hostname}:${p}`;
        return { protocol, hostname, port: p, base: path.slice(0, -2), host };
      } finally {
        probe.destroy();
      }
    })();
    // A failure (no credentials yet) is not kept: the next request asks again.
    this.layout.catch(() => (this.layout = undefined));
    return this.layout;
  }

  /**
   * GETs `key`, If-Match `etag`, from byte `offset` when above 0. Resolves
   * with the answer when it is a 2xx (its body to be read); any other answer
   * is read and thrown as the SDK would throw it (`Code`, `$metadata`).
   */
  async get(key: string, etag: string, offset: number, signal?: AbortSignal): Promise<GetResponse> {
    const layout = await this.resolveLayout();
    const path = `${layout.base}/${encodeKeyPath(key)}`;
    const headers: Record<string, string> = { host: layout.host, "if-match": etag, "x-amz-content-sha256": EMPTY_SHA256 };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const signed = await this.signer.sign({ method: "GET", protocol: layout.protocol, hostname: layout.hostname, port: layout.port, path, query: {}, headers });
    const token = this.options.bearerToken?.();
    const sent = token === undefined ? signed.headers : bearerHeaders(signed.headers, token);
    const res = await this.http.get({ protocol: layout.protocol, hostname: layout.hostname, port: layout.port, path }, sent, signal);
    if (res.status >= 200 && res.status < 300) return res;
    throw s3Error(res.status, res.headers, await res.text());
  }

  close(): void {
    this.http.close();
  }
}
