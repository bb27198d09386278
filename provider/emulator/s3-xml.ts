/**
 * The XML of the object endpoint: S3's error bodies and its listings
 * (ListObjects V1 and V2), with S3's escaping of keys. Apart from the
 * handlers so that what a client parses is in one place.
 */
import type { ServerResponse } from "node:http";
import type { Store } from "./store";

export const NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More elements of the error body, as S3 sends them (e.g. `StringToSign`, `Region`). */
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" };

/**
 * Escapes text for an XML element. Control characters (legal in keys) are
 * written as character references, as S3 does: raw, most are not XML at
 * all and a parser either fails or (for CR) silently changes the key.
 */
export function esc(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[<>&'"\u0000-\u001f\u007f]/g, (c) => ENTITIES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
}

/** S3's `encoding-type=url`: keys URL-encoded (as S3 does, "/" kept), so any byte survives the XML. */
/** As S3 writes keys for `encoding-type=url`: form encoding, so a space is "+" ("/" left as it is). */
function urlEncodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(/%20/g, "+")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The key encoder an `encoding-type` asks for; only `url` exists. */
export function keyEncoder(q: URLSearchParams): (s: string) => string {
  const type = q.get("encoding-type");
  if (type === null) return esc;
  if (type.toLowerCase() !== "url") throw new S3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request", { ArgumentName: "encoding-type", ArgumentValue: type });
  return (k) => esc(urlEncodeKey(k));
}

export function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

/** `max-keys` as S3 reads it: a whole number, at most 1000 served; 0 is honoured (an empty page). */
function maxKeysOf(q: URLSearchParams): number {
  const raw = q.get("max-keys");
  if (raw === null || raw === "") return 1000;
  if (!/^\d+$/.test(raw)) throw new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", { ArgumentName: "max-keys", ArgumentValue: raw });
  return Math.min(Number(raw), 1000);
}

/**
 * ListObjects (V1, `marker`) and ListObjectsV2 (`list-type=2`, continuation
 * tokens, `start-after`), with delimiter and `encoding-type=url`, as the
 * newest SDK uploads read it: page by page until not truncated. A common
 * prefix counts once, and a page never ends inside one.
 */
export function listObjectsXml(store: Store, bucketName: string, prefix: string, q: URLSearchParams): string {
  const v2 = q.get("list-type") === "2";
  const encode = keyEncoder(q);
  const maxKeys = maxKeysOf(q);
  const delimiter = q.get("delimiter") ?? "";
  const token = v2 ? q.get("continuation-token") : null;
  let after = v2 ? (q.get("start-after") ?? "") : (q.get("marker") ?? "");
  if (token !== null) {
    const decoded = /^[A-Za-z0-9_-]*$/.test(token) ? Buffer.from(token, "base64url").toString() : "";
    if (!decoded.startsWith("k:")) throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
    after = decoded.slice(2);
  }
  const contents: string[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let lastKey = "";
  let openPrefix: string | undefined;
  const listed = store.listObjects(prefix);
  // Sorted in S3's order: the first key past `after` by binary search, so a
  // page costs the same at the end of 100,000 keys as at the start.
  let start = 0;
  if (after) {
    const afterBytes = Buffer.from(after);
    let hi = listed.length;
    while (start < hi) {
      const mid = (start + hi) >>> 1;
      if (Buffer.compare(Buffer.from(listed[mid].key), afterBytes) <= 0) start = mid + 1;
      else hi = mid;
    }
  }
  for (let i = start; i < listed.length; i++) {
    const o = listed[i];
    if (openPrefix !== undefined && o.key.startsWith(openPrefix)) {
      lastKey = o.key;
      continue;
    }
    if (maxKeys === 0) break;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    lastKey = o.key;
    const cut = delimiter ? o.key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      openPrefix = o.key.slice(0, cut + delimiter.length);
      prefixes.push(openPrefix);
      continue;
    }
    contents.push(
      `<Contents><Key>${encode(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  }
  const common = prefixes.map((p) => `<CommonPrefixes><Prefix>${encode(p)}</Prefix></CommonPrefixes>`).join("");
  const head =
    `<Name>${esc(bucketName)}</Name><Prefix>${encode(prefix)}</Prefix>` +
    (v2
      ? `${token !== null ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ""}${q.get("start-after") ? `<StartAfter>${encode(q.get("start-after")!)}</StartAfter>` : ""}<KeyCount>${contents.length + prefixes.length}</KeyCount>`
      : `<Marker>${encode(q.get("marker") ?? "")}</Marker>`) +
    `<MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${encode(delimiter)}</Delimiter>` : ""}` +
    `${q.has("encoding-type") ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${truncated}</IsTruncated>`;
  const next = !truncated
    ? ""
    : v2
      ? `<NextContinuationToken>${Buffer.from("k:" + lastKey).toString("base64url")}</NextContinuationToken>`
      : `<NextMarker>${encode(lastKey)}</NextMarker>`;
  return `<ListBucketResult xmlns="${NS}">${head}${next}${contents.join("")}${common}</ListBucketResult>`;
}

/** Answers with S3's XML error body (a HEAD gets the status alone, as S3 sends it). */
export function sendS3Error(res: ServerResponse, method: string, err: S3Error, resource: string): void {
  res.statusCode = err.status;
  if (method === "HEAD") {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/xml");
  const fields = Object.entries(err.fields)
    .map(([k, v]) => `<${k}>${esc(v)}</${k}>`)
    .join("");
  res.end(xml(`<Error><Code>${err.code}</Code><Message>${esc(err.message)}</Message>${fields}<Resource>${esc(resource)}</Resource><RequestId>emulator</RequestId></Error>`));
}
