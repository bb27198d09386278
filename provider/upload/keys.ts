/**
 * Where a file lands: `stagePrefix + stagePath + relativePath`, with the
 * stage path checked and normalised before anything is sent.
 */
import { ZillizValidationError } from "../errors";

/** S3 refuses keys longer than this many UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * "" or a relative POSIX directory ending in "/" ("data" -> "data/").
 * Refuses what S3 would accept but a stage should not hold: "." and ".."
 * segments, a leading "/", backslashes, empty segments, control characters.
 */
export function normalizeStagePath(input: string | undefined): string {
  const raw = input ?? "";
  if (raw === "") return "";
  if (typeof raw !== "string") return reject(String(raw), "is not a string", 'give a directory such as "data/"');
  if (raw.startsWith("/")) return reject(raw, 'starts with "/"', 'paths are relative to the stage: write "data/", or "" for the root');
  if (raw.includes("\\")) return reject(raw, "contains a backslash", 'separate directories with "/"');
  if (CONTROL.test(raw)) return reject(raw, "contains control characters", "remove them");
  const trimmed = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  const segments = trimmed.split("/");
  if (segments.includes("..") || segments.includes(".")) {
    return reject(raw, 'contains a "." or ".." segment', "name the directory inside the stage directly, without . or ..");
  }
  if (segments.includes("")) return reject(raw, 'contains an empty segment ("a//b")', 'use a single "/" between directories');
  return `${trimmed}/`;
}

function reject(raw: string, what: string, fix: string): never {
  throw new ZillizValidationError("path", `${JSON.stringify(raw)} ${what}; ${fix}`);
}

/**
 * The object key of one file. Refuses relative paths that would escape
 * the stage path and keys S3 cannot store (over 1024 UTF-8 bytes).
 */
export function objectKey(stagePrefix: string, stagePath: string, relativePath: string): string {
  const segments = relativePath.split("/");
  if (relativePath === "" || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new ZillizValidationError("source", `${JSON.stringify(relativePath)} is not a relative file path; the manifest is damaged, scan again`);
  }
  const key = stagePrefix + stagePath + relativePath;
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) {
    throw new ZillizValidationError(
      "source",
      `${relativePath}: its object key would be ${bytes} bytes, above S3's limit of ${MAX_KEY_BYTES}; shorten the file name, its directories or the stage path, or exclude it`,
    );
  }
  return key;
}
