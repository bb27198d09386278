/**
 * S3's flexible checksums, as the object endpoint checks them: a body sent
 * with `x-amz-checksum-crc32` (or `-sha256`) is refused when it does not
 * match, and a multipart upload that declared an algorithm wants it on
 * every part and in the completion. (An upload that declared none takes
 * parts with or without one: since S3's default integrity protections of
 * 2025 the SDKs and awscli send a CRC32 with every part unasked.) Clients
 * that send unsigned payloads (ours, for parts) depend on this check, so
 * the emulator makes it as S3 does, with S3's codes and messages.
 *
 * Only CRC32 and SHA-256 are computed here; a checksum of another algorithm
 * (CRC32C, CRC64NVME, SHA-1) is accepted unchecked, as no client of this
 * package sends one.
 */
import type { IncomingMessage } from "node:http";
import { S3Error } from "./s3-xml";
import type { Checks, Received, UploadRecord } from "./store";

const ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** The checksum a request carries, in a header or an aws-chunked trailer, if any: its algorithm and base64 value. */
function sentChecksum(req: IncomingMessage, trailers: ReadonlyMap<string, string>): { algorithm: Algorithm; value: string } | undefined {
  let sent: { algorithm: Algorithm; value: string } | undefined;
  for (const algorithm of ALGORITHMS) {
    const name = `x-amz-checksum-${algorithm}`;
    const value = req.headers[name] ?? trailers.get(name);
    if (typeof value !== "string") continue;
    // One body, one checksum: S3 will not pick one of several.
    if (sent) throw new S3Error(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    sent = { algorithm, value };
  }
  return sent;
}

/**
 * Which digests a body needs besides its MD5: the SHA-256 when the request
 * claims one (x-amz-content-sha256) or sends a SHA-256 checksum, the CRC32
 * when it sends a CRC32 or its upload declared one. A body with aws-chunked
 * trailers may name its checksum only at the end: it gets both.
 */
export function checksNeeded(req: IncomingMessage, body: { stream: unknown }, claimed: string, upload?: UploadRecord): Checks {
  const plain = body.stream === req;
  const wants = (algorithm: Algorithm) => !plain || req.headers[`x-amz-checksum-${algorithm}`] !== undefined || upload?.checksumAlgorithm === algorithm;
  return { sha256: /^[0-9a-f]{64}$/.test(claimed) || wants("sha256"), crc32: wants("crc32") };
}

/** What the endpoint computed for the body, in S3's base64 form. */
function computed(received: Received, algorithm: Algorithm): string | undefined {
  const missing = () => new S3Error(500, "InternalError", `the emulator did not compute the body's ${algorithm}`);
  if (algorithm === "crc32") {
    if (received.crc32 === undefined) throw missing();
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(received.crc32);
    return out.toString("base64");
  }
  if (algorithm === "sha256") {
    if (received.sha256 === undefined) throw missing();
    return Buffer.from(received.sha256, "hex").toString("base64");
  }
  return undefined;
}

/** The algorithm `CreateMultipartUpload` declares (`x-amz-checksum-algorithm`), lower-case, or undefined. */
export function declaredAlgorithm(req: IncomingMessage): string | undefined {
  const raw = req.headers["x-amz-checksum-algorithm"];
  if (typeof raw !== "string" || raw === "") return undefined;
  const algorithm = raw.toLowerCase();
  if (!(ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new S3Error(400, "InvalidRequest", `Value for x-amz-checksum-algorithm header is invalid.`);
  }
  return algorithm;
}

/**
 * Checks the body against the checksum the request carries (in a header,
 * or in the trailers of an aws-chunked body) and, for a part, against the
 * algorithm its upload declared. Returns the checksum that was sent, if
 * any: S3 answers it back, and keeps a part's for the completion to repeat.
 */
export function verifyChecksum(req: IncomingMessage, trailers: ReadonlyMap<string, string>, received: Received, upload?: UploadRecord): { algorithm: string; value: string } | undefined {
  const sent = sentChecksum(req, trailers);
  if (upload?.checksumAlgorithm !== undefined && sent?.algorithm !== upload.checksumAlgorithm) {
    // S3 names the expected type as declared and the actual one in lower case; "null" for none.
    throw new S3Error(
      400,
      "InvalidRequest",
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm ?? "null"}, actual checksum Type: ${sent?.algorithm ?? "null"}`,
    );
  }
  if (!sent) return undefined;
  const expected = computed(received, sent.algorithm);
  if (expected === undefined) return sent;
  if (Buffer.from(sent.value, "base64").toString("base64") !== sent.value || sent.value.length !== expected.length) {
    throw new S3Error(400, "InvalidRequest", `Value for x-amz-checksum-${sent.algorithm} header is invalid.`);
  }
  if (sent.value !== expected) {
    throw new S3Error(400, "BadDigest", `The ${sent.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
  }
  return sent;
}

/** The completion of an upload that declared an algorithm must give each part's checksum, as stored. */
export function verifyCompletedPart(upload: UploadRecord, partNumber: number, part: Record<string, unknown>): void {
  const algorithm = upload.checksumAlgorithm;
  if (algorithm === undefined) return;
  const field = `Checksum${algorithm.toUpperCase()}`;
  const given = part[field];
  if (typeof given !== "string" || given === "") {
    throw new S3Error(
      400,
      "InvalidRequest",
      `The upload was created using a ${algorithm} checksum. The complete request must include the checksum for each part. It was missing for part ${partNumber} in the request.`,
    );
  }
  if (given !== upload.parts[String(partNumber)].checksum) {
    throw new S3Error(400, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
  }
}
