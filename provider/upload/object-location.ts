/**
 * Where an object source is: `s3://bucket/prefix/` or `gs://bucket/prefix/`
 * parsed and checked, and the inputs that say how to reach it. What reads
 * it is object-source.ts.
 */
import { ZillizValidationError } from "../errors";

/** Where an object source is, and how to reach it (inputs of StagedFiles/VolumeFiles). */
export interface ObjectSourceSettings {
  /** An S3-compatible endpoint instead of AWS's (e.g. https://minio.example.com:9000); for gs://, default https://storage.googleapis.com. */
  sourceEndpoint?: string;
  /** Bucket in the path rather than the host name; default true with a `sourceEndpoint`, false for AWS. */
  sourcePathStyle?: boolean;
  /** The bucket's region for signing; default AWS_REGION, AWS_DEFAULT_REGION, then us-east-1 (gs://: auto). */
  sourceRegion?: string;
}

export interface ObjectLocation {
  scheme: "s3" | "gs";
  bucket: string;
  /** "" or ending in "/": keys under it are listed, relative to it. */
  prefix: string;
}

const SCHEME = /^(s3|gs):\/\//i;
// S3's and GCS's bucket names together: lowercase letters, digits, dots, dashes, underscores (GCS).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** True when `source` names an object store (`s3://` or `gs://`) rather than a local path. */
export function isObjectSource(source: string): boolean {
  return SCHEME.test(source);
}

/** `s3://bucket/prefix/` -> its parts, or a refusal that names `source` and the form it takes. */
export function parseObjectSource(source: string): ObjectLocation {
  const m = SCHEME.exec(source);
  if (!m) throw new ZillizValidationError("source", `${source} is not an s3:// or gs:// URL`);
  const scheme = m[1].toLowerCase() as "s3" | "gs";
  const rest = source.slice(m[0].length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? "" : rest.slice(slash + 1);
  const form = `${scheme}://<bucket>/ or ${scheme}://<bucket>/<prefix>/`;
  if (!BUCKET.test(bucket)) throw new ZillizValidationError("source", `"${bucket}" in ${source} is not a bucket name; give source as ${form}`);
  if (prefix !== "" && !prefix.endsWith("/")) {
    throw new ZillizValidationError("source", `${source} must name a folder: end it with "/" (${scheme}://${bucket}/${prefix}/) to copy every object under it`);
  }
  // A leading "/" is an empty first segment.
  if (prefix.split("/").some((s, i, all) => (s === "" && i < all.length - 1) || s === "." || s === "..")) {
    throw new ZillizValidationError("source", `the prefix "${prefix}" in ${source} has an empty, "." or ".." segment; give source as ${form}`);
  }
  return { scheme, bucket, prefix };
}
