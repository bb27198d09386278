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
 * "" or a relative POSIX directory ending in "/" ("data" -> "data/"), by
 * the rules of the newest SDK: empty and "." segments are dropped
 * ("a//b/./c" -> "a/b/c/"), any ".." segment is refused. Also refuses what
 * S3 would accept but a stage should not hold: a leading "/", backslashes,
 * control characters, a blank path and segments with leading or trailing
 * spaces (a key that differs from another only by a space is a trap).
 */
export function normalizeStagePath(input: string | undefined): string {
  const raw = input ?? "";
  if (raw === "") return "";
  if (typeof raw !== "string") return reject(String(raw), "is not a string", 'give a directory such as "data/"');
  if (raw.trim() === "") return reject(raw, "is blank", 'give a directory such as "data/", or "" for the root');
  if (raw.startsWith("/")) return reject(raw, 'starts with "/"', 'paths are relative to the stage: write "data/", or "" for the root');
  if (raw.includes("\\")) return reject(raw, "contains a backslash", 'separate directories with "/"');
  if (CONTROL.test(raw)) return reject(raw, "contains control characters", "remove them");
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    return reject(raw, 'contains a ".." segment', "name the directory inside the stage directly, without ..");
  }
  const spaced = segments.find((s) => s.trim() !== s);
  if (spaced !== undefined) {
    return reject(raw, `has a segment with leading or trailing spaces (${JSON.stringify(spaced)})`, "remove the spaces");
  }
  return segments.length === 0 ? "" : `${segments.join("/")}/`;
}

/**
 * Refuses a relative file path with control characters: S3 listings give
 * some of them back changed (a CR comes back as LF), so such a file would
 * be sent again after every refresh.
 */
export function checkRelativePath(rel: string): void {
  if (CONTROL.test(rel)) {
    throw new ZillizValidationError(
      "source",
      `${JSON.stringify(rel)} contains control characters (U+0000-U+001F or U+007F), which object listings do not give back intact; rename the file or leave it out with \`exclude\``,
    );
  }
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
