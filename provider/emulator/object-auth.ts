/**
 * Who is calling the object endpoint: the temporary credential a request
 * was made with, checked the way the volume's cloud checks it (SigV4 on
 * AWS, a Bearer access token on Google Cloud).
 */
import type { IncomingMessage } from "node:http";
import { S3Error } from "./s3";
import { checkSignature, MAX_SKEW_MS, parseAmzDate, parseAuthorization, ParsedAuthorization } from "./sigv4";
import type { CredentialRecord, Store } from "./store";

/**
 * Checks who is calling; returns the credential the request was made with.
 * Keys of an AWS volume sign with SigV4 (signature, session token, expiry
 * checked); the token of a Google Cloud volume is an OAuth access token sent
 * as `Authorization: Bearer`, as the GCS XML API takes it, and SigV4 with
 * that volume's keys is refused.
 */
export async function authenticate(req: IncomingMessage, store: Store, region: string, now = Date.now()): Promise<CredentialRecord> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (bearer) return bearerCredential(bearer[1], store);
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) throw new S3Error(403, "AccessDenied", "Requests must be signed with AWS Signature Version 4 (Authorization header).");
  checkScope(req, auth, now);
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
  if (auth.region !== region) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${region}'`, {
      Region: region,
    });
  }
  if (req.headers["x-amz-security-token"] !== cred.sessionToken) {
    throw new S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
  }
  if (Date.now() > cred.expireTime) throw new S3Error(400, "ExpiredToken", "The provided token has expired.");
  // S3 wants the payload's hash (or UNSIGNED-PAYLOAD) said, not assumed: a
  // signer that leaves it out (curl's --aws-sigv4) is told so, not handed a
  // signature mismatch it cannot explain.
  if (req.headers["x-amz-content-sha256"] === undefined) {
    throw new S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  const check = await checkSignature(req, auth, cred.secretAccessKey, cred.sessionToken);
  if (!check.matches) {
    // As S3 answers: the access key id and what the server signed, so a
    // client's own error handling must keep them out of logs (ours redacts).
    throw new S3Error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      {
        AWSAccessKeyId: auth.accessKeyId,
        StringToSign: check.stringToSign,
        SignatureProvided: auth.signature,
        CanonicalRequest: check.canonicalRequest,
      },
    );
  }
  return cred;
}

/**
 * What S3 checks before it looks at the key: the signed headers include
 * `host`, the scope names service `s3` and the request's own
 * day, and the request was made within 15 minutes of now (so a captured
 * request cannot be replayed for the credential's whole life).
 */
function checkScope(req: IncomingMessage, auth: ParsedAuthorization, now: number): void {
  const malformed = (why: string, fields: Record<string, string> = {}) =>
    new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; ${why}`, fields);
  if (!auth.signedHeaders.includes("host")) {
    throw new S3Error(403, "AccessDenied", "There were headers present in the request which were not signed", { HeadersNotSigned: "host" });
  }
  if (auth.service !== "s3") throw malformed(`incorrect service "${auth.service}". This endpoint belongs to "s3".`);
  const amzDate = req.headers["x-amz-date"] as string | undefined;
  const date = parseAmzDate(amzDate);
  if (!date) throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  if (amzDate!.slice(0, 8) !== auth.date) throw malformed("Invalid credential date. Date is not the same as X-Amz-Date.");
  if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
      RequestTime: amzDate!,
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }
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
