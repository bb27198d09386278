/**
 * The user metadata every object the engine writes carries, named in one
 * place: its SHA-256 (so a later run can recognise the file it was about to
 * send), and which resource owns it (so that a rename, a `--replace` or a
 * second stack on the same path never deletes or overwrites another
 * resource's object without saying so).
 */

/** Hex SHA-256 of the object's bytes. */
export const SHA256_METADATA = "sha256";
/**
 * The owning resources' tokens (16 random bytes, base64url, minted at
 * create and kept in each one's state), space-separated, most recent first:
 * two resources (two stacks) holding the same content at one key both own
 * it, and the object goes only when the last of them lets it go. Earlier
 * versions wrote one token: a set of one.
 */
export const OWNER_METADATA = "owner";
/** The URN of the most recent owner, URI-encoded (metadata values must be ASCII): only for messages. */
export const OWNER_URN_METADATA = "owner-urn";
/**
 * At most this many owners of one object: S3 limits user metadata to 2 KB,
 * and 16 tokens of 22 characters leave room for the SHA-256 and a URN.
 */
export const MAX_OWNERS = 16;

export const metadataHeader = (name: string): string => `x-amz-meta-${name}`;

/** Who writes: the resource's token, and its URN for messages. */
export interface ObjectOwner {
  token: string;
  /** "" when the program did not pass one (state and programs of earlier versions). */
  urn: string;
}

/** The metadata of an object holding `sha256`, written by `owner`. */
export function objectMetadata(sha256: string, owner: ObjectOwner | undefined): Record<string, string> {
  const meta: Record<string, string> = Object.create(null);
  meta[SHA256_METADATA] = sha256;
  if (owner) {
    meta[OWNER_METADATA] = owner.token;
    if (owner.urn) meta[OWNER_URN_METADATA] = encodeURIComponent(owner.urn);
  }
  return meta;
}

/** The owners an object's metadata records, and the URN of the most recent one. */
export interface OwnerMark {
  /** Most recent first; empty when the object has no mark (0.1.0, another tool). */
  tokens: string[];
  urn?: string;
}

/** The metadata of an object holding `sha256`, owned by the set `mark`. */
export function markedMetadata(sha256: string | undefined, mark: OwnerMark): Record<string, string> {
  const meta: Record<string, string> = Object.create(null);
  if (sha256 !== undefined) meta[SHA256_METADATA] = sha256;
  if (mark.tokens.length > 0) meta[OWNER_METADATA] = mark.tokens.join(" ");
  if (mark.urn) meta[OWNER_URN_METADATA] = encodeURIComponent(mark.urn);
  return meta;
}

/** The owners recorded in an object's metadata; no tokens when the object has no mark (0.1.0, another tool). */
export function ownerOf(metadata: Record<string, string> | undefined): OwnerMark {
  const tokens = [...new Set((metadata?.[OWNER_METADATA] ?? "").split(" ").filter((t) => t !== ""))];
  const raw = metadata?.[OWNER_URN_METADATA];
  let urn: string | undefined;
  if (raw) {
    try {
      urn = decodeURIComponent(raw);
    } catch {
      urn = raw;
    }
  }
  return { tokens, urn };
}
