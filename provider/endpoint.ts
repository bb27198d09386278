/**
 * Endpoints: the REST API's (from config) and the object store's (from an
 * apply answer) are parsed and checked here, the one place that decides
 * what counts as loopback, where plain http is allowed (the emulator).
 */
import { ZillizValidationError } from "./errors";

export const DEFAULT_ENDPOINT = "https://api.cloud.zilliz.com";

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http may go to. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * An http(s) URL, plain http only for loopback. `bareHost` accepts
 * `host[:port]` without a scheme as https (the apply answer's form).
 * `field` and `example` go into the message, so the user knows what to fix.
 */
export function parseEndpoint(endpoint: string, options: { field?: string; bareHost?: boolean; example?: string } = {}): URL {
  const field = options.field ?? "endpoint";
  const example = options.example ?? DEFAULT_ENDPOINT;
  const text = options.bareHost && !/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? `https://${endpoint}` : endpoint;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ZillizValidationError(field, `${JSON.stringify(endpoint)} is not a URL; use e.g. ${example}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ZillizValidationError(field, `${JSON.stringify(endpoint)} must be an https URL (it uses ${url.protocol}), e.g. ${example}`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new ZillizValidationError(
      field,
      `plain http is accepted only for 127.0.0.1/localhost (the emulator); use https://${url.host}${url.pathname}`,
    );
  }
  return url;
}
