/**
 * Reading an object source's bytes for an `up`: hashed once (SHA-256 and
 * part CRC32s, as a local file's scan does), then streamed to the transfer
 * through a PlannedSource, every read pinned to the ETag the listing saw.
 */
import { createHash } from "node:crypto";
import { ZillizFileChangedError } from "../errors";
import type { HashedParts, Identities } from "./local-file";
import type { GetResponse } from "./http-get";
import type { ListedObject, ObjectSourceClient } from "./object-source";
import { PartCrcs, partSizeFor, PARTS_MIN_BYTES } from "./part-size";
import type { PlannedReader, PlannedSource } from "./planned-source";

/** What hashing an object found: its SHA-256 and, for one an upload sends in parts, each part's CRC32. */
export interface HashedObject {
  sha256: string;
  parts?: HashedParts;
}

/** Reads the whole object once: SHA-256, and the CRC32 of each part an upload will cut. */
export async function hashObject(client: ObjectSourceClient, o: ListedObject): Promise<HashedObject> {
  let hash = createHash("sha256");
  let parts: PartCrcs | undefined;
  const entry = { size: o.size, sha256: "(not yet hashed)", etag: o.etag };
  const total = await client.read(o.rel, entry, () => {
    hash = createHash("sha256");
    parts = o.size >= PARTS_MIN_BYTES ? new PartCrcs(partSizeFor(o.size)) : undefined;
    return (chunk) => {
      hash.update(chunk);
      parts?.update(chunk);
    };
  });
  if (total !== o.size) throw new ZillizFileChangedError(client.url(o.rel), entry, `${total} bytes`);
  const sha256 = hash.digest("hex");
  if (!parts) return { sha256 };
  parts.close();
  return { sha256, parts: { sha256, size: o.size, partSize: parts.partSize, crc32: parts.crc32 } };
}

/** Times a broken stream is opened again, from where it broke, before the read fails. */
const STREAM_REOPENS = 4;

/**
 * The planned objects as a PlannedSource. A transfer reads an object from
 * start to end (a small one in one read, a large one part after part), so
 * each object is one streamed GET pinned to the entry's ETag, opened again
 * from the byte it broke at if the connection fails (a read that does not
 * follow the last one opens it there too). The transfer checks the bytes against
 * the entry's SHA-256 (or the store against the hashed part CRC32s), as for
 * a file.
 */
export function objectPlannedSource(client: ObjectSourceClient, listed: Identities): PlannedSource {
  return {
    async open(rel, entry): Promise<PlannedReader> {
      const etag = entry.etag;
      if (etag === undefined) throw new ZillizFileChangedError(client.url(rel), entry, "no ETag recorded for it; run again");
      const pinned = { ...entry, etag };
      let body: GetResponse | undefined;
      /** The offset of the body's next byte. */
      let next = 0;
      const drop = () => {
        body?.destroy();
        body = undefined;
      };
      return {
        async read(buf, position) {
          if (position >= entry.size || buf.length === 0) return 0;
          const length = Math.min(buf.length, entry.size - position);
          if (position !== next) drop();
          next = position;
          let filled = 0;
          let reopened = 0;
          while (filled < length) {
            body ??= await client.stream(rel, pinned, next);
            let n: number;
            try {
              // Straight from the connection's buffer into the caller's.
              n = await body.readInto(buf, filled, length);
              if (n === 0) throw new Error(`the stream ended at byte ${next} of ${entry.size}`);
            } catch (err) {
              // The connection broke mid-object: open it again from here, a few times.
              drop();
              if (++reopened > STREAM_REOPENS) throw err;
              continue;
            }
            filled += n;
            next += n;
          }
          return filled;
        },
        // Pinned to the ETag: the object cannot have grown.
        hasMoreThan: async () => false,
        close: async () => drop(),
      };
    },
    hashedParts: (rel) => listed.get(rel)?.hashed,
  };
}
