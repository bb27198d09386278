/**
 * Who is calling the object endpoint: the temporary credential a request
 * was made with, checked the way the volume's cloud checks it (SigV4 on
 * AWS, a Bearer access token on Google Cloud).
 */
import type { IncomingMessage } from "node:http";
import { S3Error } from "./s3";
import { parseAuthorization, signatureMatches } from "./sigv4";
import type { CredentialRecord, Store } from "./store";

/**
 * Checks who is calling; returns the credential the request was made with.
 * Keys of an AWS volume sign with SigV4 (signature, session token, expiry
 * checked); the token of a Google Cloud volume is an OAuth access token sent
 * as `Authorization: Bearer`, as the GCS XML API takes it, and SigV4 with
 * that volume's keys is refused.
 */
export async function authenticate(req: IncomingMessage, store: Store): Promise<CredentialRecord> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (bearer) return bearerCredential(bearer[1], store);
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) throw new S3Error(403, "AccessDenied", "Requests must be signed with AWS Signature Version 4 (Authorization header).");
  const cred = store.credential(auth.accessKeyId);
  if (!cred || !store.volume(cred.volumeName)) {
    throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (cred.cloud === "gcp") {
    throw new S3Error(
      403,
      "AccessDenied",
      "This volume is on Google Cloud: send the session token as 'Authorization: Bearer <sessionToken>'; AWS signatures are not accepted.",
    );
  }
  if (req.headers["x-amz-security-token"] !== cred.sessionToken) {
    throw new S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
  }
  if (Date.now() > cred.expireTime) throw new S3Error(400, "ExpiredToken", "The provided token has expired.");
  if (!(await signatureMatches(req, auth, cred.secretAccessKey, cred.sessionToken))) {
    throw new S3Error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  return cred;
}

function bearerCredential(token: string, store: Store): CredentialRecord {
  const cred = store.credentialByToken(token);
  if (!cred || !store.volume(cred.volumeName)) throw new S3Error(401, "AuthenticationRequired", "Invalid Credentials");
  // S3 knows no Bearer tokens: a volume on AWS must sign.
  if (cred.cloud !== "gcp") throw new S3Error(400, "InvalidArgument", "Unsupported Authorization Type: this volume is on AWS; sign requests with SigV4.");
  // GCS answers an expired access token with 401, like any invalid one.
  if (Date.now() > cred.expireTime) throw new S3Error(401, "AuthenticationRequired", "Invalid Credentials: the access token has expired.");
  return cred;
}
