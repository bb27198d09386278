/**
 * The user metadata every object the engine writes carries, named in one
 * place: its SHA-256 (so a later run can recognise the file it was about to
 * send), and which resource owns it (so that a rename, a `--replace` or a
 * second stack on the same path never deletes or overwrites another
 * resource's object without saying so).
 */

/** Hex SHA-256 of the object's bytes. */
export const SHA256_METADATA = "sha256";
/** The owning resource's token: 16 random bytes, base64url, minted at create and kept in its state. */
export const OWNER_METADATA = "owner";
/** The owning resource's URN, URI-encoded (metadata values must be ASCII): only for messages. */
export const OWNER_URN_METADATA = "owner-urn";

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

/** The owner recorded in an object's metadata; token undefined when the object has no mark (0.1.0, another tool). */
export function ownerOf(metadata: Record<string, string> | undefined): { token?: string; urn?: string } {
  const token = metadata?.[OWNER_METADATA] || undefined;
  const raw = metadata?.[OWNER_URN_METADATA];
  let urn: string | undefined;
  if (raw) {
    try {
      urn = decodeURIComponent(raw);
    } catch {
      urn = raw;
    }
  }
  return { token, urn };
}
