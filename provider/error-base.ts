/**
 * What every error of the family shares: the fixed codes and the base class
 * (errors.ts is the family's front, and says how its messages are written).
 * A module of its own so that the family's other modules extend the base
 * without importing the front that re-exports them.
 */

/** Every `code` this package's errors carry. */
export const ERROR_CODES = {
  api: "ZILLIZ_ERR_API",
  validation: "ZILLIZ_ERR_VALIDATION",
  transport: "ZILLIZ_ERR_TRANSPORT",
  tls: "ZILLIZ_ERR_TLS",
  store: "ZILLIZ_ERR_STORE",
  upload: "ZILLIZ_ERR_UPLOAD",
  hash: "ZILLIZ_ERR_HASH",
  fileChanged: "ZILLIZ_ERR_FILE_CHANGED",
  import: "ZILLIZ_ERR_IMPORT",
  merge: "ZILLIZ_ERR_MERGE",
  stopped: "ZILLIZ_ERR_STOPPED",
} as const;
export type ZillizErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** " (gave up after N attempts)" when a retried request failed for good. */
export function attemptsNote(attempts: number | undefined): string {
  if (attempts === undefined) return "";
  return ` (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`;
}

/** Base class: lets callers catch everything this package throws in one place. */
export abstract class ZillizStageError extends Error {
  /** Stable, machine-readable: e.g. `ZILLIZ_ERR_API`. */
  abstract readonly code: ZillizErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
