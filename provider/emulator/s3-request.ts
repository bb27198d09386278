/**
 * What the object endpoint reads from a request besides its path: the body
 * (aws-chunked decoded when the client framed it so, with its trailing
 * headers) and the user metadata headers.
 */
import type { IncomingMessage } from "node:http";
import { Readable, Transform } from "node:stream";
import { S3Error } from "./s3-xml";

/**
 * Decodes `aws-chunked` bodies (`<hex size>[;chunk-signature=…]\r\n<data>\r\n`,
 * ending with a zero chunk and optional trailers), which newer SDKs send by
 * default. Chunk signatures are not verified: the request signature already
 * binds the credentials. The trailers are kept: that is where the SDKs put
 * a body's checksum (`x-amz-trailer: x-amz-checksum-crc32`), and the
 * endpoint checks it as S3 does (s3-checksums.ts).
 */
class AwsChunkedDecoder extends Transform {
  /** Trailing headers by lower-case name, complete once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private buf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: "size" | "data" | "crlf" | "trailers" | "done" = "size";

  _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  _flush(done: (err?: Error | null) => void): void {
    // A body cut before its last (zero) chunk is incomplete: S3 stores nothing.
    if (this.state !== "trailers" && this.state !== "done") return done(new S3Error(400, "IncompleteBody", "The request body terminated unexpectedly"));
    // A last trailer without its CRLF: taken as it is.
    if (this.state === "trailers" && this.buf.length > 0) this.trailer(this.buf.toString("latin1"));
    done();
  }

  private trailer(line: string): void {
    const colon = line.indexOf(":");
    if (colon > 0) this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }

  private drain(): void {
    for (;;) {
      if (this.state === "done") {
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.state === "trailers") {
        const eol = this.buf.indexOf("\r\n");
        if (eol < 0) return;
        const line = this.buf.subarray(0, eol).toString("latin1");
        this.buf = this.buf.subarray(eol + 2);
        if (line === "") this.state = "done";
        else this.trailer(line);
      } else if (this.state === "size") {
        const eol = this.buf.indexOf("\r\n");
        if (eol < 0) return;
        const hex = this.buf.subarray(0, eol).toString("latin1").split(";")[0];
        if (!/^[0-9a-f]{1,8}$/i.test(hex)) throw new S3Error(400, "IncompleteBody", "Malformed aws-chunked body.");
        const size = parseInt(hex, 16);
        this.buf = this.buf.subarray(eol + 2);
        this.remaining = size;
        this.state = size === 0 ? "trailers" : "data";
      } else if (this.state === "data") {
        if (this.buf.length === 0) return;
        const take = Math.min(this.remaining, this.buf.length);
        this.push(this.buf.subarray(0, take));
        this.buf = this.buf.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = "crlf";
      } else {
        if (this.buf.length < 2) return;
        this.buf = this.buf.subarray(2);
        this.state = "size";
      }
    }
  }
}

/** A request's body, and the trailing headers it ended with (none unless aws-chunked). */
export interface RequestBody {
  stream: Readable;
  /** Read them once `stream` has ended. */
  trailers: ReadonlyMap<string, string>;
}

export function requestBody(req: IncomingMessage): RequestBody {
  const encoding = String(req.headers["content-encoding"] ?? "");
  const sha = String(req.headers["x-amz-content-sha256"] ?? "");
  if (!encoding.includes("aws-chunked") && !sha.startsWith("STREAMING-")) return { stream: req, trailers: new Map() };
  const decoder = new AwsChunkedDecoder();
  return { stream: req.pipe(decoder), trailers: decoder.trailers };
}

export function bodyOf(req: IncomingMessage): Readable {
  return requestBody(req).stream;
}

export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of bodyOf(req)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The x-amz-meta-* headers of a request, without the prefix. */
export function userMetadata(req: IncomingMessage): Record<string, string> {
  // Keyed by the client's names: no prototype, so "__proto__" is a name like any other.
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string") out[name.slice("x-amz-meta-".length)] = value;
  }
  return out;
}
