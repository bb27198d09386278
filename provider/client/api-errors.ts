/**
 * Reading the service's error answers. The service may answer an error with
 * a non-200 status or with HTTP 200 and a non-zero `code`, and no SDK names
 * its codes for "not found" or "already exists"; so each question here is
 * answered by the status, the code and the message text together.
 */
import { ZillizApiError } from "../errors";
import { ALREADY_EXISTS_MESSAGE, API_ERROR_CODES, LEGACY_NOT_FOUND_CODE, NOT_FOUND_MESSAGE } from "./api-codes";

/** The parts of an error answer these questions read. */
export type ApiAnswer = Pick<ZillizApiError, "status" | "apiCode" | "apiMessage">;

/** Message text about the API key: such an answer is never "not found", whatever its code. */
const API_KEY_MESSAGE = /api.?key|token|unauthori[sz]ed|authenticat/i;

function notFound(a: ApiAnswer): boolean {
  // 80001 meant "not found" before the code moved to 404; older deployments
  // may still send it. Taking a refused key for "gone" would drop a live
  // volume from the state, so a message about the key overrules the code.
  if (a.apiCode === LEGACY_NOT_FOUND_CODE) return !API_KEY_MESSAGE.test(a.apiMessage);
  return a.status === 404 || a.apiCode === 404 || a.apiCode === API_ERROR_CODES.notFound || NOT_FOUND_MESSAGE.test(a.apiMessage);
}

function alreadyExists(a: ApiAnswer): boolean {
  return a.status === 409 || a.apiCode === 409 || a.apiCode === API_ERROR_CODES.alreadyExists || ALREADY_EXISTS_MESSAGE.test(a.apiMessage);
}

function badApiKey(a: ApiAnswer): boolean {
  return a.status === 401 || a.apiCode === 401 || a.apiCode === API_ERROR_CODES.invalidApiKey || API_KEY_MESSAGE.test(a.apiMessage);
}

/** True when `err` says the stage (or whatever the call named) does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ZillizApiError && notFound(err);
}

/** True when `err` says the name is already taken. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ZillizApiError && alreadyExists(err);
}

const RERUN = "(a rerun picks up where this one stopped)";

/** What to tell the user about an error answer, from its status, code and message together. */
export function hintFor(a: ApiAnswer): string | undefined {
  if (badApiKey(a)) {
    return "Check the API key: set zillizcloud:apiKey (pulumi config set --secret zillizcloud:apiKey <key>) or ZILLIZCLOUD_API_KEY.";
  }
  if (a.status === 403 || a.apiCode === 403) {
    return "The API key is valid but not allowed to do this; check its project and role in the Zilliz Cloud console.";
  }
  if (alreadyExists(a)) return "The name is taken; pick another, or take over the existing one with `adopt: true` (see Stage/Volume inputs).";
  if (a.status === 429 || a.apiCode === 429) return `Zilliz Cloud is throttling this API key; wait a minute and try again ${RERUN}.`;
  if (a.status >= 500) return `Zilliz Cloud could not serve the request; try again later ${RERUN}.`;
  return undefined;
}
