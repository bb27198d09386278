/**
 * What an S3 request names, read as S3 reads it: the bucket and key of a
 * path-style request, the object an `x-amz-copy-source` names, which
 * operation it is, and the byte range it asks for. Malformed input is the
 * client's error (S3's 400s), never a crash.
 */
import type { RequestKind } from "./faults";
import { S3Error } from "./s3-xml";

/** A path-style request split into bucket and key (key decoded). */
export interface S3Target {
  bucket: string;
  key: string;
}

/** Splits a path-style request; a malformed %-escape is the client's error (400), never a crash (500) that clients retry. */
export function s3Target(rawPath: string): S3Target {
  const [, bucket = "", ...rest] = rawPath.split("/");
  try {
    return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rest.join("/")) };
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.", { URI: rawPath });
  }
}

/**
 * The object an `x-amz-copy-source` names. S3 requires the value URL-encoded
 * and decodes it as a form value, byte by byte: `+` is a space (a raw `+` in
 * a key copies another key, NoSuchKey), a malformed %-escape is 400
 * InvalidArgument "Invalid copy source encoding", and so are bytes that are
 * not UTF-8 once decoded. Node hands a header over as Latin-1 characters, one
 * per byte, so a raw non-ASCII character (sent by Node as its one Latin-1
 * byte) is refused as S3 would refuse it, instead of matching the key.
 */
export function copySourceTarget(header: string): S3Target {
  const invalid = () => new S3Error(400, "InvalidArgument", "Invalid copy source encoding");
  const raw = Buffer.from(header, "latin1");
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x2b) bytes.push(0x20);
    else if (b !== 0x25) bytes.push(b);
    else {
      const hex = raw.subarray(i + 1, i + 3).toString("latin1");
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalid();
      bytes.push(parseInt(hex, 16));
      i += 2;
    }
  }
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(bytes));
  } catch {
    throw invalid();
  }
  const path = decoded.startsWith("/") ? decoded.slice(1) : decoded;
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) throw new S3Error(400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

export function s3Kind(method: string, target: S3Target, q: URLSearchParams): RequestKind {
  const hasKey = target.key !== "";
  if (method === "PUT" && hasKey) return q.has("partNumber") && q.has("uploadId") ? "s3:part" : "s3:put";
  if (method === "POST" && hasKey && q.has("uploads")) return "s3:initiate";
  if (method === "POST" && hasKey && q.has("uploadId")) return "s3:complete";
  if (method === "DELETE" && hasKey) return q.has("uploadId") ? "s3:abort" : "s3:delete";
  if (method === "POST" && !hasKey && q.has("delete")) return "s3:deleteMany";
  if (method === "GET" && !hasKey && q.has("uploads")) return "s3:listUploads";
  if (method === "GET" && !hasKey && !q.has("location")) return "s3:list";
  if (method === "GET" && hasKey) return "s3:get";
  if (method === "HEAD" && hasKey) return "s3:head";
  return "s3:other";
}

/**
 * The one byte range a `Range` header asks for (inclusive ends), as S3
 * reads it: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A header that is not a
 * single range of that form is ignored (the whole object, as RFC 9110
 * allows); a range that starts past the end is unsatisfiable.
 */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}
