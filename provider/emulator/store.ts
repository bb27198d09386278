/**
 * The emulator's persistent state under its data directory: the volumes and
 * credentials of store-volumes.ts, and here the objects and pending
 * multipart uploads.
 *
 * Object keys are arbitrary strings and S3 lets both "a" and "a/b" exist, so
 * keys never become file paths: an object is a small JSON named by the
 * SHA-256 of the key (key, size, ETag, and the name of its content file),
 * and its content a file of a name never used before. Committing a new
 * version writes the content first, then renames the JSON into place: that
 * rename is the one commit point, so across a crash an object is its old
 * version or its new one, content and metadata together, never a mix.
 * Content no JSON names (a crash before the rename) is collected at open.
 *
 * The data directory is the emulator's only: it must be empty or carry the
 * marker file written at the first start, so that pointing `--data-dir` at
 * a project by mistake refuses to start instead of deleting its `tmp/`.
 */
import { createHash, type Hash, randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { Readable, Transform } from "node:stream";

import { VOLUME_TYPES, VolumeType } from "../client/volume-schemas";
import { claimDataDir, pauseForCrashTest, writeAtomic } from "./data-dir";
import { type Cloud, type CredentialRecord, objectMetaSchema, type ObjectMeta, uploadSchema, type UploadRecord, type VolumeRecord } from "./store-records";
import { VolumeRegistry } from "./store-volumes";

export { VOLUME_TYPES };
export type { VolumeType };
export type { Cloud, CredentialRecord, ObjectMeta, UploadRecord, VolumeRecord };

function keyId(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * Counts bytes and computes the MD5 (S3's ETag) of what flows through, and
 * the SHA-256 and CRC32 when the request carries one to check: hashing
 * every body with SHA-256 cost the emulator about a second per gigabyte of
 * unsigned parts that nothing compared it with (issue 18's benchmark).
 */
class Measure extends Transform {
  readonly md5 = createHash("md5");
  readonly sha256: Hash | undefined;
  crc32: number | undefined;
  size = 0;

  constructor(wants: Checks) {
    super();
    if (wants.sha256) this.sha256 = createHash("sha256");
    if (wants.crc32) this.crc32 = 0;
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    if (this.crc32 !== undefined) this.crc32 = crc32(chunk, this.crc32);
    this.size += chunk.length;
    done(null, chunk);
  }
}

/** Which digests besides the MD5 a body needs, for the checks its request asks for. */
export interface Checks {
  sha256?: boolean;
  crc32?: boolean;
}

/** What a body turned into on disk. */
export interface Received {
  tmpFile: string;
  size: number;
  md5: string;
  /** Computed only when asked for (Checks). */
  sha256?: string;
  crc32?: number;
}

/** The store: the volumes and credentials of its base, and the objects and multipart uploads. */
export class Store extends VolumeRegistry {
  private objects = new Map<string, ObjectMeta>();
  /**
   * Every key in key order (UTF-8 bytes, as S3 lists), built on the first
   * listing after a new key appears: a listing of N keys is paged 1000 at a
   * time, and sorting the whole store for every page made a large store's
   * listing cost the emulator far more than S3 charges a client. Deletes and
   * rewrites of a key keep it (a listing skips keys gone from `objects`), so
   * a destroy that deletes one page while listing the next does not re-sort.
   */
  private sorted?: string[];
  private uploads = new Map<string, UploadRecord>();

  private constructor(dataDir: string) {
    super(dataDir);
  }

  static async open(dataDir: string): Promise<Store> {
    const store = new Store(dataDir);
    await claimDataDir(dataDir);
    for (const dir of ["objects", "uploads", "tmp"]) await fs.mkdir(path.join(dataDir, dir), { recursive: true });
    await store.loadState();
    const files = await fs.readdir(path.join(dataDir, "objects"));
    const referenced = new Set<string>();
    for (const name of files) {
      if (!name.endsWith(".json")) continue;
      const meta = objectMetaSchema.parse(JSON.parse(await fs.readFile(path.join(dataDir, "objects", name), "utf8")));
      store.objects.set(meta.key, meta);
      referenced.add(store.contentName(meta));
    }
    // Content a crash left without its JSON never became visible: collect it.
    for (const name of files) {
      if (!name.endsWith(".json") && !referenced.has(name)) await fs.rm(path.join(dataDir, "objects", name), { force: true });
    }
    for (const id of await fs.readdir(path.join(dataDir, "uploads"))) {
      const file = path.join(dataDir, "uploads", id, "upload.json");
      try {
        store.uploads.set(id, uploadSchema.parse(JSON.parse(await fs.readFile(file, "utf8"))));
      } catch {
        // an upload directory without its record: initiation never finished
      }
    }
    // Leftovers of bodies that were cut off before a restart.
    await fs.rm(path.join(dataDir, "tmp"), { recursive: true, force: true });
    await fs.mkdir(path.join(dataDir, "tmp"));
    return store;
  }

  // --- objects --------------------------------------------------------------

  /** A managed volume's objects and pending uploads, when the volume goes. */
  protected async removeObjectsUnder(prefix: string): Promise<void> {
    for (const key of [...this.objects.keys()]) if (key.startsWith(prefix)) await this.deleteObject(key);
    for (const up of [...this.uploads.values()]) if (up.key.startsWith(prefix)) await this.abortUpload(up.uploadId);
  }

  /** Streams a body into a temp file, measuring it; nothing is visible yet. */
  async receive(body: Readable, wants: Checks = { sha256: true, crc32: true }): Promise<Received> {
    const tmpFile = path.join(this.dataDir, "tmp", randomBytes(12).toString("hex"));
    const measure = new Measure(wants);
    try {
      await pipeline(body, measure, createWriteStream(tmpFile));
    } catch (err) {
      await fs.rm(tmpFile, { force: true });
      throw err;
    }
    return { tmpFile, size: measure.size, md5: measure.md5.digest("hex"), sha256: measure.sha256?.digest("hex"), crc32: measure.crc32 };
  }

  async discard(received: Received): Promise<void> {
    await fs.rm(received.tmpFile, { force: true });
  }

  /** The name of the object's content file in objects/. */
  private contentName(meta: Pick<ObjectMeta, "key" | "content">): string {
    return meta.content ?? `${keyId(meta.key)}.bin`;
  }

  private metaPath(key: string): string {
    return path.join(this.dataDir, "objects", `${keyId(key)}.json`);
  }

  async commitObject(key: string, received: Pick<Received, "tmpFile" | "size">, etag: string, metadata?: Record<string, string>): Promise<ObjectMeta> {
    const content = `${keyId(key)}.${randomBytes(8).toString("hex")}.bin`;
    await fs.rename(received.tmpFile, path.join(this.dataDir, "objects", content));
    await pauseForCrashTest(key);
    const meta: ObjectMeta = { key, content, size: received.size, etag, lastModified: Date.now() };
    if (metadata && Object.keys(metadata).length > 0) meta.metadata = metadata;
    // The commit point: before it the old version is whole, after it the new one.
    await writeAtomic(this.metaPath(key), JSON.stringify(meta));
    const old = this.objects.get(key);
    this.objects.set(key, meta);
    if (!old && !this.sorted?.includes(key)) this.sorted = undefined;
    if (old) await fs.rm(path.join(this.dataDir, "objects", this.contentName(old)), { force: true });
    return meta;
  }

  /** Copies an object's bytes to another key (S3 CopyObject). */
  async copyObject(from: ObjectMeta, to: string, metadata?: Record<string, string>): Promise<ObjectMeta> {
    const tmpFile = path.join(this.dataDir, "tmp", randomBytes(12).toString("hex"));
    // Content files are never written after their rename into objects/, so a
    // second link is a copy (a self-copy that only rewrites metadata moved a
    // whole object's bytes otherwise); copied where links are not allowed.
    await fs.link(this.objectFile(from.key), tmpFile).catch(() => fs.copyFile(this.objectFile(from.key), tmpFile));
    return this.commitObject(to, { tmpFile, size: from.size }, from.etag, metadata ?? from.metadata);
  }

  object(key: string): ObjectMeta | undefined {
    return this.objects.get(key);
  }

  /** The content file of the object's current version (read it before another version replaces it). */
  objectFile(key: string): string {
    const meta = this.objects.get(key);
    return path.join(this.dataDir, "objects", meta ? this.contentName(meta) : `${keyId(key)}.bin`);
  }

  /** Objects under `prefix`, in key order (S3 lists in UTF-8 binary order). */
  listObjects(prefix = ""): ObjectMeta[] {
    if (!this.sorted) {
      const withBytes = [...this.objects.keys()].map((key) => ({ key, bytes: Buffer.from(key) }));
      withBytes.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
      this.sorted = withBytes.map((e) => e.key);
    }
    const out: ObjectMeta[] = [];
    for (const key of this.sorted) {
      const meta = key.startsWith(prefix) ? this.objects.get(key) : undefined;
      if (meta) out.push(meta);
    }
    return out;
  }

  async deleteObject(key: string): Promise<void> {
    const meta = this.objects.get(key);
    if (!meta) return;
    this.objects.delete(key);
    // The JSON first: once it is gone the object is, and the content is garbage.
    await fs.rm(this.metaPath(key), { force: true });
    await fs.rm(path.join(this.dataDir, "objects", this.contentName(meta)), { force: true });
  }

  // --- multipart uploads ----------------------------------------------------

  async createUpload(key: string, metadata?: Record<string, string>, checksumAlgorithm?: string): Promise<UploadRecord> {
    const record: UploadRecord = { uploadId: randomBytes(16).toString("hex"), key, createdAt: Date.now(), parts: {} };
    if (metadata && Object.keys(metadata).length > 0) record.metadata = metadata;
    if (checksumAlgorithm !== undefined) record.checksumAlgorithm = checksumAlgorithm;
    const dir = path.join(this.dataDir, "uploads", record.uploadId);
    await fs.mkdir(dir);
    await writeAtomic(path.join(dir, "upload.json"), JSON.stringify(record));
    this.uploads.set(record.uploadId, record);
    return record;
  }

  upload(uploadId: string): UploadRecord | undefined {
    return this.uploads.get(uploadId);
  }

  listUploads(prefix = ""): UploadRecord[] {
    return [...this.uploads.values()].filter((u) => u.key.startsWith(prefix)).sort((a, b) => a.createdAt - b.createdAt);
  }

  async commitPart(upload: UploadRecord, partNumber: number, received: Received, checksum?: string): Promise<string> {
    const dir = path.join(this.dataDir, "uploads", upload.uploadId);
    await fs.rename(received.tmpFile, path.join(dir, `part-${partNumber}`));
    upload.parts[String(partNumber)] = { etag: received.md5, size: received.size, ...(checksum !== undefined && { checksum }) };
    await writeAtomic(path.join(dir, "upload.json"), JSON.stringify(upload));
    return received.md5;
  }

  /** Concatenates the named parts into the object; the ETag is S3's md5-of-md5s with "-N". */
  async completeUpload(upload: UploadRecord, partNumbers: number[]): Promise<ObjectMeta> {
    const dir = path.join(this.dataDir, "uploads", upload.uploadId);
    const tmpFile = path.join(this.dataDir, "tmp", randomBytes(12).toString("hex"));
    const md5s = createHash("md5");
    let size = 0;
    // One handle appended to part by part (a stream piped into many times
    // collects listeners, one set per part).
    const out = await fs.open(tmpFile, "w");
    // One buffer for the whole copy: a stream's fresh 64 KiB chunks were garbage by the gigabyte.
    const buffer = Buffer.allocUnsafeSlow(1024 * 1024);
    try {
      for (const n of partNumbers) {
        const part = upload.parts[String(n)];
        md5s.update(Buffer.from(part.etag, "hex"));
        size += part.size;
        const input = await fs.open(path.join(dir, `part-${n}`), "r");
        try {
          for (let got; (got = (await input.read(buffer, 0, buffer.length, null)).bytesRead) > 0; ) await out.write(buffer, 0, got);
        } finally {
          await input.close();
        }
      }
    } finally {
      await out.close();
    }
    const meta = await this.commitObject(upload.key, { tmpFile, size }, `${md5s.digest("hex")}-${partNumbers.length}`, upload.metadata);
    await this.abortUpload(upload.uploadId);
    return meta;
  }

  async abortUpload(uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
    await fs.rm(path.join(this.dataDir, "uploads", uploadId), { recursive: true, force: true });
  }
}
