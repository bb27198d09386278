/**
 * The S3-compatible object endpoint: the subset of S3 that ordinary clients
 * (aws-sdk v3, awscli, rclone) use to upload, list and delete, path-style.
 *
 * Why our own and not an existing server: s3rver, the npm fake S3, has been
 * unmaintained since 2021 and does not verify SigV4 at all ("Signature
 * version 4 calculation is unimplemented" in its source); MinIO is a Go
 * server that cannot ship through npx, and its STS will not issue
 * credentials shorter than 15 minutes, which the expiry tests need. So this
 * module implements the few operations, and delegates the part that must be
 * exactly right, the signature, to AWS's @smithy/signature-v4.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createReadStream } from "node:fs";
import { pipeline, Transform } from "node:stream";
import { XMLParser } from "fast-xml-parser";
import type { RequestKind } from "./faults";
import type { CredentialRecord, Store } from "./store";
import { checksNeeded, declaredAlgorithm, verifyChecksum, verifyCompletedPart } from "./s3-checksums";
import { readText, requestBody, userMetadata } from "./s3-request";
import { esc, keyEncoder, listObjectsXml, NS, S3Error, xml } from "./s3-xml";
import { byteRange, copySourceTarget, type S3Target } from "./s3-target";

export { S3Error };

const MAX_SINGLE_PUT = 5 * 1024 ** 3;
/** Every part but the last must be at least this big. */
const MIN_PART_SIZE = 5 * 1024 ** 2;


function requirePrefix(cred: CredentialRecord, keyOrPrefix: string): void {
  if (!keyOrPrefix.startsWith(cred.prefix)) throw new S3Error(403, "AccessDenied", "Access Denied");
}

// htmlEntities: Go's encoder (rclone, aws-sdk-go) writes quotes in ETags and
// keys as numeric references (&#34;), which plain XML entity handling leaves undecoded.
const xmlParser = new XMLParser({ parseTagValue: false, htmlEntities: true, isArray: (name) => name === "Object" || name === "Part" });


export interface S3Context {
  store: Store;
  bucketName: string;
  region: string;
  /** Flip a byte of this request's body (the "corrupt" fault). */
  corruptBody?: boolean;
}

/** Flips the first byte that passes. */
function flipFirstByte(): Transform {
  let flipped = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (!flipped && chunk.length > 0) {
        chunk = Buffer.from(chunk);
        chunk[0] ^= 0xff;
        flipped = true;
      }
      done(null, chunk);
    },
  });
}

/** Handles one authenticated S3 request. */
export async function handleS3(
  kind: RequestKind,
  req: IncomingMessage,
  res: ServerResponse,
  target: S3Target,
  q: URLSearchParams,
  cred: CredentialRecord,
  ctx: S3Context,
): Promise<void> {
  const { store } = ctx;
  if (target.bucket !== ctx.bucketName) throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist");
  const key = target.key;
  const method = req.method ?? "GET";

  switch (kind) {
    case "s3:put":
    case "s3:part": {
      requirePrefix(cred, key);
      const copySource = req.headers["x-amz-copy-source"];
      if (kind === "s3:put" && typeof copySource === "string") {
        // CopyObject: sync tools use it to update metadata (rclone's modification times).
        const source = copySourceTarget(copySource);
        requirePrefix(cred, source.key);
        const from = source.bucket === ctx.bucketName ? store.object(source.key) : undefined;
        if (!from) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.");
        const ifMatch = req.headers["x-amz-copy-source-if-match"];
        if (typeof ifMatch === "string" && ifMatch.replace(/"/g, "") !== from.etag) {
          throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
        }
        req.resume();
        const replace = String(req.headers["x-amz-metadata-directive"] ?? "").toUpperCase() === "REPLACE";
        const meta = await store.copyObject(from, key, replace ? userMetadata(req) : undefined);
        res.setHeader("content-type", "application/xml");
        res.end(xml(`<CopyObjectResult xmlns="${NS}"><LastModified>${new Date(meta.lastModified).toISOString()}</LastModified><ETag>&quot;${meta.etag}&quot;</ETag></CopyObjectResult>`));
        return;
      }
      const declared = Number(req.headers["x-amz-decoded-content-length"] ?? req.headers["content-length"] ?? 0);
      if (kind === "s3:put" && declared > MAX_SINGLE_PUT) {
        throw new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
      }
      const upload = kind === "s3:part" ? store.upload(q.get("uploadId")!) : undefined;
      if (kind === "s3:part" && (!upload || upload.key !== key)) {
        throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      }
      const body = requestBody(req);
      const claimed = String(req.headers["x-amz-content-sha256"] ?? "");
      const received = await store.receive(ctx.corruptBody ? pipeline(body.stream, flipFirstByte(), () => {}) : body.stream, checksNeeded(req, body, claimed, upload));
      // An aws-chunked body says how many bytes it carries once decoded: fewer or more is a body cut or padded.
      const decodedLength = req.headers["x-amz-decoded-content-length"];
      if (typeof decodedLength === "string" && Number(decodedLength) !== received.size) {
        await store.discard(received);
        throw new S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header");
      }
      if (/^[0-9a-f]{64}$/.test(claimed) && claimed !== received.sha256) {
        await store.discard(received);
        throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
      let checksum: ReturnType<typeof verifyChecksum>;
      try {
        checksum = verifyChecksum(req, body.trailers, received, upload);
      } catch (err) {
        await store.discard(received);
        throw err;
      }
      const etag = upload
        ? await store.commitPart(upload, Number(q.get("partNumber")), received, checksum?.value)
        : (await store.commitObject(key, received, received.md5, userMetadata(req))).etag;
      res.setHeader("etag", `"${etag}"`);
      if (checksum) res.setHeader(`x-amz-checksum-${checksum.algorithm}`, checksum.value);
      res.end();
      return;
    }
    case "s3:get":
    case "s3:head": {
      requirePrefix(cred, key);
      const meta = store.object(key);
      if (!meta) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.");
      res.setHeader("etag", `"${meta.etag}"`);
      res.setHeader("last-modified", new Date(meta.lastModified).toUTCString());
      res.setHeader("accept-ranges", "bytes");
      res.setHeader("content-type", "application/octet-stream");
      for (const [k, v] of Object.entries(meta.metadata ?? {})) res.setHeader(`x-amz-meta-${k}`, v);
      const range = kind === "s3:get" ? byteRange(req.headers.range, meta.size) : undefined;
      if (range === "unsatisfiable") {
        res.setHeader("content-range", `bytes */${meta.size}`);
        throw new S3Error(416, "InvalidRange", "The requested range is not satisfiable");
      }
      if (range) {
        res.statusCode = 206;
        res.setHeader("content-range", `bytes ${range.start}-${range.end}/${meta.size}`);
      }
      res.setHeader("content-length", String(range ? range.end - range.start + 1 : meta.size));
      if (kind === "s3:head") {
        res.end();
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const stream = createReadStream(store.objectFile(key), range ? { start: range.start, end: range.end } : {});
        stream.on("error", reject);
        res.on("finish", resolve);
        res.on("close", resolve);
        stream.pipe(res);
      });
      return;
    }
    case "s3:delete": {
      requirePrefix(cred, key);
      await store.deleteObject(key);
      res.statusCode = 204;
      res.end();
      return;
    }
    case "s3:deleteMany": {
      const doc = xmlParser.parse(await readText(req));
      const objects: { Key: string }[] = doc?.Delete?.Object ?? [];
      const quiet = String(doc?.Delete?.Quiet ?? "false") === "true";
      let deleted = "";
      let errors = "";
      for (const o of objects) {
        const k = String(o.Key);
        if (!k.startsWith(cred.prefix)) {
          errors += `<Error><Key>${esc(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`;
          continue;
        }
        await store.deleteObject(k);
        if (!quiet) deleted += `<Deleted><Key>${esc(k)}</Key></Deleted>`;
      }
      res.setHeader("content-type", "application/xml");
      res.end(xml(`<DeleteResult xmlns="${NS}">${deleted}${errors}</DeleteResult>`));
      return;
    }
    case "s3:list": {
      const prefix = q.get("prefix") ?? "";
      requirePrefix(cred, prefix);
      res.setHeader("content-type", "application/xml");
      res.end(xml(listObjectsXml(store, ctx.bucketName, prefix, q)));
      return;
    }
    case "s3:initiate": {
      requirePrefix(cred, key);
      const upload = await store.createUpload(key, userMetadata(req), declaredAlgorithm(req));
      res.setHeader("content-type", "application/xml");
      res.end(
        xml(`<InitiateMultipartUploadResult xmlns="${NS}"><Bucket>${esc(ctx.bucketName)}</Bucket><Key>${esc(key)}</Key><UploadId>${upload.uploadId}</UploadId></InitiateMultipartUploadResult>`),
      );
      return;
    }
    case "s3:complete": {
      requirePrefix(cred, key);
      const upload = store.upload(q.get("uploadId")!);
      if (!upload || upload.key !== key) throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      const doc = xmlParser.parse(await readText(req));
      const parts: { PartNumber: string; ETag: string; [checksum: string]: unknown }[] = doc?.CompleteMultipartUpload?.Part ?? [];
      const numbers: number[] = [];
      for (const p of parts) {
        const n = Number(p.PartNumber);
        const stored = upload.parts[String(n)];
        if (!stored || stored.etag !== String(p.ETag).replace(/"/g, "")) {
          throw new S3Error(400, "InvalidPart", `Part ${n} was not uploaded or its ETag does not match.`);
        }
        if (numbers.length && n <= numbers[numbers.length - 1]) {
          throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
        }
        verifyCompletedPart(upload, n, p);
        numbers.push(n);
      }
      if (numbers.length === 0) throw new S3Error(400, "MalformedXML", "The XML you provided lists no parts.");
      for (const n of numbers.slice(0, -1)) {
        const part = upload.parts[String(n)];
        if (part.size < MIN_PART_SIZE) {
          throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
            ProposedSize: String(part.size),
            MinSizeAllowed: String(MIN_PART_SIZE),
            PartNumber: String(n),
            ETag: part.etag,
          });
        }
      }
      const meta = await store.completeUpload(upload, numbers);
      res.setHeader("content-type", "application/xml");
      res.end(
        xml(`<CompleteMultipartUploadResult xmlns="${NS}"><Bucket>${esc(ctx.bucketName)}</Bucket><Key>${esc(key)}</Key><ETag>&quot;${meta.etag}&quot;</ETag></CompleteMultipartUploadResult>`),
      );
      return;
    }
    case "s3:abort": {
      requirePrefix(cred, key);
      // The upload must be of this key, as for part and complete: otherwise any
      // volume's keys could abort another volume's upload by its id.
      const upload = store.upload(q.get("uploadId")!);
      if (!upload || upload.key !== key) throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      await store.abortUpload(q.get("uploadId")!);
      res.statusCode = 204;
      res.end();
      return;
    }
    case "s3:listUploads": {
      const prefix = q.get("prefix") ?? "";
      requirePrefix(cred, prefix);
      const encode = keyEncoder(q);
      const encoding = q.has("encoding-type") ? "<EncodingType>url</EncodingType>" : "";
      const uploads = store
        .listUploads(prefix)
        .map((u) => `<Upload><Key>${encode(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${new Date(u.createdAt).toISOString()}</Initiated></Upload>`)
        .join("");
      res.setHeader("content-type", "application/xml");
      res.end(xml(`<ListMultipartUploadsResult xmlns="${NS}"><Bucket>${esc(ctx.bucketName)}</Bucket><Prefix>${encode(prefix)}</Prefix>${encoding}<IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`));
      return;
    }
    default: {
      if (method === "HEAD" && key === "") {
        res.end();
        return;
      }
      if (method === "GET" && key === "" && q.has("location")) {
        res.setHeader("content-type", "application/xml");
        res.end(xml(`<LocationConstraint xmlns="${NS}">${esc(ctx.region)}</LocationConstraint>`));
        return;
      }
      throw new S3Error(501, "NotImplemented", `The emulator does not implement ${method} ${req.url}`);
    }
  }
}
