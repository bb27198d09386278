/**
 * One large file as an S3 multipart upload: parts read in order and sent
 * concurrently, the bytes proved to be the planned ones before the upload
 * is completed, and the upload aborted, never left pending, when anything
 * fails. The proof is each part's CRC32 from the scan, which computed them
 * in the same pass as the SHA-256 and which the store checks against the
 * bytes it receives (one pass over the bytes in all); otherwise the whole
 * file's SHA-256, computed as the parts are read.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { ZillizFileChangedError, ZillizStoreError } from "../errors";
import type { ManifestEntry } from "./manifest";
import { PENDING_SHA256 } from "./manifest";
import { type ObjectOwner, objectMetadata, SHA256_METADATA } from "./object-metadata";
import { markOwned } from "./ownership";
import { partSizeFor } from "./part-size";
import type { PlannedSource } from "./planned-source";
import type { ObjectPutter } from "./put";
import { s3Sdk } from "./s3";
import type { StoreSession } from "./session";


/** The run is already failing because of another file. */
export class StoppedError extends Error {}

/**
 * A multipart upload hashed on the way completed, but its digest could not
 * be written onto it: the object is there, holding exactly the bytes the
 * digest was computed from, and must be recorded as arrived (a destroy must
 * find it), though the run fails.
 */
export class ArrivedWithoutDigestError extends Error {
  constructor(
    readonly rel: string,
    readonly cause: unknown,
  ) {
    super(`${rel} arrived, but its SHA-256 could not be written onto it (${(cause as Error)?.message ?? String(cause)}); it is recorded, and another resource will not take it for its own content`);
  }
}

export interface MultipartFile {
  /** Manifest key, for messages. */
  rel: string;
  /** Where its bytes are read from (planned-source.ts). */
  source: PlannedSource;
  entry: ManifestEntry;
  key: string;
  /** Wanted part size; grown to S3's minimum and so that no file needs more than 10,000 parts. */
  partSize: number;
  /** Called with the bytes of each part the store accepted. */
  onPart(bytes: number): void;
  /** The resource writing it; its mark goes with the object. */
  owner?: ObjectOwner;
}

function missing(what: string, operation: string): ZillizStoreError {
  return new ZillizStoreError({ operation, storeCode: "InvalidResponse", description: `the store ${what}` });
}

/** Parts go through `putter` (unsigned, with a checksum where the store checks one); the rest through the session's SDK client. */
export async function putMultipart(session: StoreSession, putter: ObjectPutter, f: MultipartFile): Promise<void> {
  const { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand } = s3Sdk();
  const { rel, entry } = f;
  const partSize = partSizeFor(entry.size, f.partSize);
  const partCount = Math.max(1, Math.ceil(entry.size / partSize));
  const reader = await f.source.open(rel, entry);
  const Bucket = await session.bucket();
  const Key = f.key;
  const s3 = await session.s3();
  let uploadId: string | undefined;
  const parts: Promise<{ PartNumber: number; ETag: string; ChecksumCRC32?: string }>[] = [];
  // S3 refuses parts with a checksum the upload did not declare when it started.
  const ChecksumAlgorithm = putter.partChecksum === "crc32" ? ("CRC32" as const) : undefined;
  // An object source's object bound for a free key, hashed as it is sent:
  // its digest is written after completion (below), never before it is known.
  const pending = entry.sha256 === PENDING_SHA256;
  const metadata = { ...objectMetadata(entry.sha256, f.owner) };
  if (pending) delete metadata[SHA256_METADATA];
  try {
    // The planned digest: the upload is completed only if the bytes hash to it.
    const created = await session.send(`CreateMultipartUpload ${rel}`, () =>
      s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, Metadata: metadata }), {
        abortSignal: session.signal,
      }),
    );
    if (!created.UploadId) throw missing("started a multipart upload without an UploadId", `CreateMultipartUpload ${rel}`);
    uploadId = created.UploadId;
    const UploadId = uploadId;
    // A part's buffer lives only while it holds a slot, so memory stays at
    // most concurrency × partSize.
    // The scan's CRC32 of each part, computed in the pass that made entry.sha256:
    // sent with the part, the store refuses any byte that is not what was
    // hashed, so the file need not be hashed again. Only where the store
    // checks them, and only for this content cut this way.
    const scanned = f.source.hashedParts(rel);
    const proven =
      putter.partChecksum === "crc32" && scanned?.sha256 === entry.sha256 && scanned.size === entry.size && scanned.partSize === partSize && scanned.crc32.length === partCount
        ? scanned.crc32
        : undefined;
    const hash = proven ? undefined : createHash("sha256");
    // The first part that failed for good: no point reading the rest of the file.
    let partFailure: { err: unknown } | undefined;
    for (let n = 1; n <= partCount; n++) {
      if (partFailure) throw partFailure.err;
      if (session.stopped()) throw new StoppedError("stopped after another file failed");
      await session.slots.acquire();
      const buffer = session.partBuffers.take(partSize);
      const done = () => {
        session.partBuffers.give(buffer);
        session.slots.release();
      };
      let chunk: Buffer;
      try {
        const offset = (n - 1) * partSize;
        chunk = buffer.subarray(0, Math.min(partSize, entry.size - offset));
        const read = await reader.read(chunk, offset);
        if (read !== chunk.length) throw new ZillizFileChangedError(rel, entry, `${offset + read} bytes`);
      } catch (err) {
        done();
        throw err;
      }
      hash?.update(chunk);
      const PartNumber = n;
      const operation = `UploadPart ${PartNumber} of ${rel}`;
      // Without the scan's (a pending digest too), the putter sends the CRC32 of the bytes read: the store still checks they arrive as read.
      const expected = proven?.[n - 1];
      const send = async () => {
        try {
          return await putter.putPart({ bucket: Bucket, key: Key, uploadId: UploadId, partNumber: PartNumber, body: chunk, crc32: expected, signal: session.signal });
        } catch (err) {
          // Refused against the scan's CRC32: damage in transit (sent again),
          // or bytes the scan did not hash (the file changed: never retried).
          if (expected !== undefined && (err as { Code?: string }).Code === "BadDigest" && crc32(chunk) !== expected) {
            throw new ZillizFileChangedError(rel, entry, `other bytes in part ${PartNumber} than the scan hashed`);
          }
          throw err;
        }
      };
      const part = session
        .retry(operation, send)
        .then((res) => {
          if (!res.etag) throw missing(`accepted part ${PartNumber} without an ETag`, operation);
          f.onPart(chunk.length);
          return { PartNumber, ETag: res.etag, ...(res.crc32 !== undefined && { ChecksumCRC32: res.crc32 }) };
        })
        // Settled, retries included: no request reads the buffer any more.
        .finally(done);
      // Observed later by Promise.all; this keeps a failure from counting as unhandled meanwhile.
      part.catch((err: unknown) => {
        partFailure ??= { err };
      });
      parts.push(part);
    }
    if (await reader.hasMoreThan(entry.size)) throw new ZillizFileChangedError(rel, entry, "more bytes");
    const sha256 = hash?.digest("hex");
    if (sha256 !== undefined && !pending && sha256 !== entry.sha256) throw new ZillizFileChangedError(rel, entry, `sha256 ${sha256}`);
    const done = await Promise.all(parts);
    const completed = await session.send(`CompleteMultipartUpload ${rel}`, () =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })),
    );
    if (pending && sha256 !== undefined) {
      // The digest of the bytes sent: what the state records from here on, whatever happens next.
      entry.sha256 = sha256;
      // Then onto the object just completed (CopyObject onto itself, only while
      // it is still that one). Until then it has none, so nothing adopts it.
      try {
        if (!completed.ETag) throw missing("completed a multipart upload without an ETag", `CompleteMultipartUpload ${rel}`);
        await markOwned(session, Key, rel, sha256, { tokens: f.owner ? [f.owner.token] : [], urn: f.owner?.urn }, completed.ETag);
      } catch (err) {
        throw new ArrivedWithoutDigestError(rel, err);
      }
    }
  } catch (err) {
    // Never leave an incomplete upload behind: it costs storage and hides from listings.
    await Promise.allSettled(parts);
    if (uploadId !== undefined) {
      const UploadId = uploadId;
      await session
        .retry(`AbortMultipartUpload ${rel}`, () => s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })), true)
        .catch(() => undefined);
    }
    throw err;
  } finally {
    await reader.close();
  }
}
