/**
 * The emulator's own admin API under /__emulator/ (always HTTP statuses,
 * the same API key): lets a test in another process inject faults, set a
 * volume's status as the service would show it, read the request log, look
 * into a collection's rows, and name the S3 endpoint of `s3://` object URLs.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Collections } from "./collections";
import { fail, isAuthorized } from "./control-plane";
import { type FaultInjector, faultSpecSchema } from "./faults";
import { readBody, sendJson } from "./http-json";
import type { ObjectUrlFiles } from "./object-urls";
import type { RequestRecord } from "./request-log";
import type { Store } from "./store";

export interface AdminContext {
  apiKey: string;
  faults: FaultInjector;
  store: Store;
  collections: Collections;
  objectUrls: ObjectUrlFiles;
  requests: () => ReadonlyArray<RequestRecord>;
  clearRequests: () => void;
}

/** `GET /__emulator/collections/<cluster>/<db>/<name>?offset=&limit=`: a collection's fields, row count and a page of rows. */
const COLLECTIONS_ROUTE = "/__emulator/collections/";
const DEFAULT_PAGE_ROWS = 1000;

function inspectCollection(collections: Collections, where: { location: string; dbName: string; collectionName: string }, query: URLSearchParams) {
  const c = where.collectionName ? collections.get(where) : undefined;
  if (!c) return undefined;
  const offset = Math.max(0, Number(query.get("offset") ?? 0) || 0);
  const limit = Math.max(1, Number(query.get("limit") ?? DEFAULT_PAGE_ROWS) || DEFAULT_PAGE_ROWS);
  return { ...where, fields: c.fields ?? [], rowCount: c.rows.length, offset, rows: c.rows.slice(offset, offset + limit) };
}

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL, ctx: AdminContext): Promise<void> {
  const raw = await readBody(req);
  // The admin API is the emulator's own: always HTTP statuses.
  const refuse = (status: number, kind: "invalidApiKey" | "malformedRequest", message: string) =>
    sendJson(res, status, fail("http", kind, message).body);
  if (!isAuthorized(req, ctx.apiKey)) return refuse(401, "invalidApiKey", "Invalid API key");
  const route = `${req.method} ${url.pathname}`;
  if (route === "POST /__emulator/faults") {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return refuse(400, "malformedRequest", "body is not JSON");
    }
    const spec = faultSpecSchema.safeParse(json);
    if (!spec.success) return refuse(400, "malformedRequest", spec.error.issues[0].message);
    ctx.faults.add(spec.data);
    return sendJson(res, 200, { code: 0, data: { pending: ctx.faults.pending() } });
  }
  if (route === "DELETE /__emulator/faults") {
    ctx.faults.clear();
    return sendJson(res, 200, { code: 0, data: {} });
  }
  // A volume's status as the service would show it, e.g. Frozen (an unpaid organization): clients must refuse to use it.
  const status = /^\/__emulator\/volumes\/([^/]+)\/status$/.exec(url.pathname);
  if (req.method === "POST" && status) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return refuse(400, "malformedRequest", "body is not JSON");
    }
    const parsed = z.object({ status: z.string().min(1) }).safeParse(json);
    if (!parsed.success) return refuse(400, "malformedRequest", "body must be {status: string}");
    let name: string;
    try {
      name = decodeURIComponent(status[1]);
    } catch {
      return refuse(400, "malformedRequest", "malformed %-escape in the volume name");
    }
    const updated = await ctx.store.updateVolume(name, { status: parsed.data.status });
    if (!updated) return refuse(404, "malformedRequest", `volume ${name} does not exist`);
    return sendJson(res, 200, { code: 0, data: { volumeName: name, status: parsed.data.status } });
  }
  // Where imports from s3:// object URLs read: another S3 server a test started ({endpoint: null} for none).
  if (route === "PUT /__emulator/object-url-endpoint") {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return refuse(400, "malformedRequest", "body is not JSON");
    }
    const parsed = z.object({ endpoint: z.url({ protocol: /^https?$/ }).nullable() }).safeParse(json);
    if (!parsed.success) return refuse(400, "malformedRequest", "body must be {endpoint: \"http(s)://host:port\" | null}");
    ctx.objectUrls.endpoint = parsed.data.endpoint ?? undefined;
    return sendJson(res, 200, { code: 0, data: { endpoint: parsed.data.endpoint } });
  }
  if (route === "GET /__emulator/requests") return sendJson(res, 200, { code: 0, data: ctx.requests() });
  if (req.method === "GET" && url.pathname.startsWith(COLLECTIONS_ROUTE)) {
    const [location, dbName, collectionName, ...rest] = url.pathname.slice(COLLECTIONS_ROUTE.length).split("/").map(decodeURIComponent);
    const page = inspectCollection(ctx.collections, { location, dbName, collectionName }, url.searchParams);
    if (rest.length > 0 || !page) return refuse(404, "malformedRequest", `collection ${url.pathname.slice(COLLECTIONS_ROUTE.length)} does not exist`);
    return sendJson(res, 200, { code: 0, data: page });
  }
  if (route === "DELETE /__emulator/requests") {
    ctx.clearRequests();
    return sendJson(res, 200, { code: 0, data: {} });
  }
  return refuse(404, "malformedRequest", `no admin route ${route}`);
}
