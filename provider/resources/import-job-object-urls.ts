/**
 * An import straight from the user's own bucket: `objectUrls` with
 * `accessKey` and `secretKey` instead of a volume or stage and its
 * `dataPaths`. What is particular to it lives here: the rules that pick
 * exactly one source, the keys' digest (the state keeps that, never the
 * keys), matching a job's file names against URLs (finding a lost job),
 * and keeping the keys out of every message.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { batchProblem } from "../client/import-schemas";
import { CheckFailure, isUnknown } from "./inputs";

/** The inputs this module reads. */
export interface ObjectUrlInputs {
  volumeName?: string;
  stageName?: string;
  dataPaths?: string[][];
  objectUrls?: string[][];
  accessKey?: string;
  secretKey?: string;
}

const given = (v: unknown) => v !== undefined && v !== null && v !== "";

const SECRET_HINT = 'pass it as a secret, e.g. config.requireSecret("bucketSecretKey")';

/**
 * Exactly one source (volumeName, stageName or objectUrls), the paths or
 * URLs that go with it, and the keys only with objectUrls. Each failure
 * names the field and the fix, never a key's value. A value unknown during
 * preview counts as given.
 */
export function sourceFailures(news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const add = (property: string, reason: string) => failures.push({ property, reason: `${property} ${reason}` });
  if (news.objectUrl !== undefined) {
    // pymilvus deprecates object_url for object_urls; one form keeps what a job imports (and its hash) in one place.
    add("objectUrl", 'is not taken: write objectUrls: [["s3://bucket/key.parquet"]] (one batch of one URL; each inner list is one import unit)');
    // The rest would only say, in many words, that objectUrls is missing.
    return failures;
  }
  const [volume, stage] = [given(news.volumeName), given(news.stageName)];
  const objects = news.objectUrls !== undefined && news.objectUrls !== null;
  if (objects && (volume || stage)) {
    add("objectUrls", `must not be given together with ${volume ? "volumeName" : "stageName"}: import from a volume, a stage, or your own bucket (objectUrls), one of them`);
  } else if (volume && stage) {
    add("stageName", "must not be given together with volumeName: import from a volume or from a stage, not both");
  } else if (!volume && !stage && !objects) {
    add(
      "volumeName",
      "is required: the volume the files are in, e.g. volumeName: files.volumeName (or stageName for a stage, or objectUrls with accessKey and secretKey to import from your own bucket)",
    );
  }
  const keyRule = (field: "accessKey" | "secretKey", what: string) => {
    if (objects && !given(news[field])) add(field, `is required with objectUrls: ${what} of a key pair that can read the objects (${SECRET_HINT})`);
    if (!objects && given(news[field])) add(field, "is only for objectUrls (a volume or stage is read with its own credentials): remove it");
  };
  keyRule("accessKey", "the access key");
  keyRule("secretKey", "the secret key");
  if (objects && news.dataPaths !== undefined) {
    add("dataPaths", "must not be given together with objectUrls: objectUrls names the objects themselves (list each file or folder URL there)");
  }
  const [field, list] = objects ? ["objectUrls", news.objectUrls] : ["dataPaths", news.dataPaths];
  if (!isUnknown(list) && Array.isArray(list)) {
    for (const [i, batch] of list.entries()) {
      if (!Array.isArray(batch) || isUnknown(batch)) continue;
      const problem = batchProblem(batch.filter((p): p is string => typeof p === "string"));
      if (problem) add(`${field}[${i}]`, problem);
    }
  }
  if (!isUnknown(list) && (!Array.isArray(list) || list.length === 0) && news.allowEmpty !== true) {
    add(
      field,
      objects
        ? 'is empty: give at least one batch of object URLs, e.g. objectUrls: [["s3://bucket/data/"]]. To start no job when there is nothing, set allowEmpty: true'
        : "is empty: give at least one batch of paths, e.g. dataPaths: files.dataPaths. " +
            "To import only what changed (files.changedDataPaths, empty when nothing changed), set allowEmpty: true",
    );
  }
  return failures;
}

/** The batches a job imports and the input that holds them. */
export function importedList(inputs: Pick<ObjectUrlInputs, "dataPaths" | "objectUrls">): { field: "dataPaths" | "objectUrls"; batches: string[][] } {
  return inputs.objectUrls ? { field: "objectUrls", batches: inputs.objectUrls } : { field: "dataPaths", batches: inputs.dataPaths ?? [] };
}

/** `s3://bucket` of the first URL: enough to name the source in a line, and never a key. */
export function bucketOf(objectUrls: readonly (readonly string[])[]): string {
  const first = objectUrls[0]?.[0] ?? "";
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(first)?.[0] ?? "object URLs";
}

/**
 * What the state keeps of the keys: an HMAC of both under a random salt,
 * `<salt>:<hex>`. It tells a change of keys (an update that starts nothing)
 * without the keys themselves being in the outputs; the salt keeps the same
 * keys in two stacks from looking alike. Marked secret all the same, as a
 * weak key could be guessed against it.
 */
export function credentialsDigest(accessKey: string, secretKey: string, salt = randomBytes(16).toString("hex")): string {
  const mac = createHmac("sha256", salt).update(accessKey).update("\0").update(secretKey).digest("hex");
  return `${salt}:${mac}`;
}

/** Whether `digest` was made from these keys. */
export function sameKeys(digest: string | undefined, accessKey: string | undefined, secretKey: string | undefined): boolean {
  if (!digest || accessKey === undefined || secretKey === undefined) return !digest && !accessKey && !secretKey;
  const salt = digest.slice(0, digest.indexOf(":"));
  const again = Buffer.from(credentialsDigest(accessKey, secretKey, salt));
  const was = Buffer.from(digest);
  return again.length === was.length && timingSafeEqual(again, was);
}

/** The digest to record for `inputs`: the recorded one while the keys are the same, so it does not churn. */
export function digestFor(inputs: Pick<ObjectUrlInputs, "accessKey" | "secretKey">, recorded?: string): string | undefined {
  const { accessKey, secretKey } = inputs;
  if (!accessKey || !secretKey) return undefined;
  return recorded && sameKeys(recorded, accessKey, secretKey) ? recorded : credentialsDigest(accessKey, secretKey);
}

/**
 * The names a job's report may give the file behind `p`: the path or URL
 * itself, or, for a URL, its bucket and key or its key alone (how the
 * service names objects it read from a URL is not documented). Generous on
 * purpose: a form missed here would make the lost job look absent, and the
 * next `up` would import the rows a second time.
 */
export function fileNameForms(p: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)\/(.*)$/i.exec(p);
  return m ? [p, `${m[1]}/${m[2]}`, m[2]] : [p];
}

/** The text with every occurrence of the keys replaced, for anything a service says back. */
export function withoutKeys(text: string, inputs: Pick<ObjectUrlInputs, "accessKey" | "secretKey">): string {
  let out = text;
  // A key of a few characters would blank out ordinary words; such a key protects nothing anyway.
  for (const key of [inputs.secretKey, inputs.accessKey]) if (key && key.length >= 4) out = out.split(key).join("[redacted]");
  return out;
}
