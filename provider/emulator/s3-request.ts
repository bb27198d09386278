/**
 * What the object endpoint reads from a request besides its path: the body
 * (aws-chunked decoded when the client framed it so) and the user metadata
 * headers.
 */
import type { IncomingMessage } from "node:http";
import { Readable, Transform } from "node:stream";
import { S3Error } from "./s3-xml";

/**
 * Decodes `aws-chunked` bodies (`<hex size>[;chunk-signature=…]\r\n<data>\r\n`,
 * ending with a zero chunk and optional trailers), which newer SDKs send by
 * default. Chunk signatures are not verified: the request signature already
 * binds the credentials, and the trailing checksum is the client's concern.
 */
class AwsChunkedDecoder extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: "size" | "data" | "crlf" | "done" = "size";

  _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private drain(): void {
    for (;;) {
      if (this.state === "done") {
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.state === "size") {
        const eol = this.buf.indexOf("\r\n");
        if (eol < 0) return;
        const size = parseInt(this.buf.subarray(0, eol).toString("latin1").split(";")[0], 16);
        if (Number.isNaN(size)) throw new S3Error(400, "IncompleteBody", "Malformed aws-chunked body.");
        this.buf = this.buf.subarray(eol + 2);
        this.remaining = size;
        this.state = size === 0 ? "done" : "data";
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

export function bodyOf(req: IncomingMessage): Readable {
  const encoding = String(req.headers["content-encoding"] ?? "");
  const sha = String(req.headers["x-amz-content-sha256"] ?? "");
  return encoding.includes("aws-chunked") || sha.startsWith("STREAMING-") ? req.pipe(new AwsChunkedDecoder()) : req;
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
