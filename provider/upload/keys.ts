/**
 * Where a file lands: `stagePrefix + stagePath + relativePath`, with the
 * stage path checked and normalised before anything is sent.
 */
import { ZillizValidationError } from "../errors";

/** S3 refuses keys longer than this many UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * "" or a relative POSIX directory ending in "/". Refuses what S3 would
 * accept but a stage should not hold: "..", a leading "/", backslashes,
 * empty segments, control characters.
 */
export function normalizeStagePath(input: string | undefined): string {
  const raw = input ?? "";
  if (raw === "" || raw === "/") return raw === "/" ? reject(raw, 'a leading "/"; use "" for the root') : "";
  if (raw.includes("\\")) return reject(raw, 'backslashes; use "/" between directories');
  if (raw.startsWith("/")) return reject(raw, 'a leading "/"; paths are relative to the stage, e.g. "data/"');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return reject(raw, "control characters");
  const trimmed = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  const segments = trimmed.split("/");
  if (segments.includes("..") || segments.includes(".")) return reject(raw, '"." or ".." segments');
  if (segments.includes("")) return reject(raw, 'empty segments ("a//b")');
  return `${trimmed}/`;
}

function reject(raw: string, what: string): never {
  throw new ZillizValidationError("path", `${JSON.stringify(raw)} contains ${what}`);
}

/** The object key of one file; refuses keys S3 cannot store. */
export function objectKey(stagePrefix: string, stagePath: string, relativePath: string): string {
  const key = stagePrefix + stagePath + relativePath;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new ZillizValidationError(
      "source",
      `${relativePath}: its object key would be ${Buffer.byteLength(key)} bytes, above S3's ${MAX_KEY_BYTES}; shorten the file name or the path`,
    );
  }
  return key;
}
