/**
 * Credentials for a `gs://` source, from where Google Cloud users keep them:
 * an OAuth access token in GOOGLE_OAUTH_ACCESS_TOKEN (what `gcloud auth
 * print-access-token` prints and CI's workload identity federation hands
 * out; sent as `Authorization: Bearer`, which the XML API takes in place of
 * a signature), or an HMAC key in GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY
 * (Cloud Storage's interoperability keys, signed with SigV4). The token wins
 * when both are set, as it does for Google's Terraform provider: it is the
 * short-lived one a user set on purpose for this run.
 *
 * Read from the environment at every request, never copied into inputs,
 * state, logs or errors.
 */
import type * as S3Sdk from "@aws-sdk/client-s3";
import { ZillizValidationError } from "../errors";

/** What a user is told to set for a gs:// source. */
export const GCS_CREDENTIALS_HINT =
  "GOOGLE_OAUTH_ACCESS_TOKEN (an access token, e.g. from `gcloud auth print-access-token`, valid for an hour) or GS_ACCESS_KEY_ID and GS_SECRET_ACCESS_KEY (an HMAC key: Cloud Storage settings > Interoperability)";

/** The access token to send as `Authorization: Bearer`, if the environment has one. */
export function gcsAccessToken(): string | undefined {
  const token = process.env.GOOGLE_OAUTH_ACCESS_TOKEN?.trim();
  return token ? token : undefined;
}

/**
 * The credentials an S3 client signs a gs:// request with: the HMAC key, or,
 * when an access token is set, a placeholder whose signature the token then
 * replaces (s3.ts useBearerToken; object-get.ts for reads). Neither set: a
 * validation error saying what to set, at the first request (a check lists).
 */
export function gcsCredentials(): NonNullable<S3Sdk.S3ClientConfig["credentials"]> {
  return async () => {
    if (gcsAccessToken() !== undefined) return { accessKeyId: "bearer-token", secretAccessKey: "bearer-token" };
    const accessKeyId = process.env.GS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.GS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new ZillizValidationError("source", `a gs:// source needs credentials in the environment: ${GCS_CREDENTIALS_HINT}; none is set`);
    }
    return { accessKeyId, secretAccessKey };
  };
}
