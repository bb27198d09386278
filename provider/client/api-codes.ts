/**
 * The one table of API codes, shared by the emulator (which answers with
 * them) and the client (which recognises them). The service documents no
 * code for "not found" or "already exists", and the official SDKs name none:
 * these numbers are the emulator's choice. A client must therefore also
 * recognise those two cases by HTTP status and by message text (as the
 * Terraform provider for Zilliz Cloud does), never by code alone.
 */

/** The envelope `code` of a successful answer (every call, list included). */
export const API_SUCCESS_CODE = 0;

/**
 * Envelope codes a client accepts as success: 0, and 200, which the first
 * stage docs show for list (the service sends 0; the SDKs fail on 200).
 */
export const API_SUCCESS_CODES: readonly number[] = [API_SUCCESS_CODE, 200];

/** The `message` of a successful answer, as the SDKs' test doubles send it. */
export const API_SUCCESS_MESSAGE = "success";

/** Envelope codes of the errors the emulator answers with, by what went wrong. */
export const API_ERROR_CODES = {
  /** The `Authorization: Bearer` API key is missing or wrong (the reference's "the API key is illegal"). */
  invalidApiKey: 21119,
  /** The body is not JSON, a field is missing or has the wrong type, or the call does not exist. */
  malformedRequest: 1100,
  /** A stage or volume name breaks the naming rule. */
  invalidName: 1101,
  /** No stage or volume of that name; the message contains "not exist". 404 is the service's code of late 2026 (80001 before). */
  notFound: 404,
  /** The name is taken; the message contains "already exist". */
  alreadyExists: 1302,
  /** The call needs a managed volume (apply on an EXTERNAL volume). */
  notManaged: 1303,
  /** The volume's status forbids the call (a `Frozen` organization: no new operations). */
  volumeUnusable: 1304,
  /** Import jobs: an inner list of `dataPaths` names more than one JSON or Parquet file (the service's code). */
  tooManyFilesInBatch: 2100,
  /** Import jobs: no such cluster (or project database); the message contains "not exist". */
  clusterNotFound: 1320,
  /** Import jobs: no such collection in the cluster's database; the message contains "not exist". */
  collectionNotFound: 1321,
  /** Import jobs: no job of that id where it was asked for; the message contains "not exist". */
  jobNotFound: 1322,
  /** Import jobs: the stage or volume to import from does not exist; the message contains "not exist". */
  sourceNotFound: 1323,
} as const;

/** What went wrong, as a key of {@link API_ERROR_CODES}. */
export type ApiErrorKind = keyof typeof API_ERROR_CODES;

/**
 * The HTTP status each error takes when errors are answered HTTP-style (the
 * emulator's `errors: "http"`). In the default style, the service's, every
 * error is HTTP 200 with the code in the envelope.
 */
export const API_ERROR_HTTP_STATUS: { readonly [K in ApiErrorKind]: number } = {
  invalidApiKey: 401,
  malformedRequest: 400,
  invalidName: 400,
  notFound: 404,
  alreadyExists: 409,
  notManaged: 400,
  volumeUnusable: 403,
  tooManyFilesInBatch: 400,
  clusterNotFound: 404,
  collectionNotFound: 404,
  jobNotFound: 404,
  sourceNotFound: 404,
};

/** The "not found" code of the service before late 2026; it was moved to 404. */
export const LEGACY_NOT_FOUND_CODE = 80001;

/** Message text that means "no such stage or volume" (matched case-insensitively). */
export const NOT_FOUND_MESSAGE = /not (exist|found)/i;

/** Message text that means "that name is taken". */
export const ALREADY_EXISTS_MESSAGE = /already exist/i;
