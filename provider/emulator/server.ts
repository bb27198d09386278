/**
 * The emulator's HTTP server: one port for the REST control plane (/v2/),
 * the S3 object endpoint (/<bucket>/<key>) and a small admin API
 * (/__emulator/) that lets a test in another process inject faults. With
 * `tls` the same port speaks HTTPS, with a certificate made at start.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { createServer, IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { ControlPlaneSettings, ErrorStyle, fail, handleRest, isAuthorized, Reply, restRoute } from "./control-plane";
import { FaultInjector, faultSpecSchema, RequestKind } from "./faults";
import type { StagedFiles } from "./import-files";
import { collectionKey, Collections, Field } from "./collections";
import { DEFAULT_IMPORT_ROWS_PER_SECOND, ImportJobs } from "./import-jobs";
import { DEFAULT_COLLECTION, handleImport, importKind, parseCollectionSpec } from "./import-routes";
import { storeImportedRows } from "./import-rows";
import { MergeJobs } from "./merge-jobs";
import { handleMerge, mergeKind } from "./merge-routes";
import { authenticate } from "./object-auth";
import { handleS3, s3Kind, s3Target, S3Error, S3Target, sendS3Error } from "./s3";
import { Store } from "./store";

export interface EmulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where stages and objects persist; default a fresh temp directory. */
  dataDir?: string;
  /** Default: random. */
  apiKey?: string;
  /** Lifetime of the temporary storage credentials; default 3600. */
  credentialTtlSeconds?: number;
  /** `condition.maxContentLength` in apply answers; default 10 GiB. */
  maxContentLength?: number;
  /** `condition.maxFileNumber` in volume apply answers (files per upload batch); default 1000. Stage answers carry none, as the stage API's never did. */
  maxFileNumber?: number;
  /**
   * How REST errors are answered. "code" (default, as the service and the
   * SDKs' test doubles do): HTTP 200 with a non-zero `code` and a `message`.
   * "http": the status of API_ERROR_HTTP_STATUS (401, 400, 404, 409). Injected
   * faults keep their HTTP status either way: they model the transport.
   */
  errors?: ErrorStyle;
  /**
   * Serve REST and S3 over HTTPS with a certificate made at start, signed by
   * a fresh local CA (written to `<dataDir>/ca.pem`, and in `caPem`). Apply
   * answers then give the object endpoint as `host:port` with no scheme,
   * exactly as the service does; without TLS they keep `http://host:port`.
   */
  tls?: boolean;
  bucketName?: string;
  region?: string;
  /** Collections import jobs may target, `<clusterId>/[<dbName>/]<collectionName>`; default `in01-emulator/quickstart`. */
  collections?: string[];
  /** How fast an import job imports, and a merge merges; default 2000 rows per second. */
  importRowsPerSecond?: number;
  /**
   * Fields of the collections in `collections`, by the same spec. A
   * collection not listed here takes its fields from its first import.
   */
  collectionFields?: Record<string, Field[]>;
}

export interface RequestRecord {
  kind: RequestKind;
  method: string;
  path: string;
  key?: string;
  status: number;
  /** The envelope `code` of a REST answer: with errors "code", a refusal is HTTP 200 and only this tells. */
  code?: number;
  /** Request body bytes, as the request declared them. */
  bytes: number;
  /** When the request arrived and when its connection was done with it (performance.now() ms): how many overlapped. */
  startedMs?: number;
  endedMs?: number;
}

/** The most requests among `records` that were open at the same moment. */
export function peakOverlap(records: ReadonlyArray<Pick<RequestRecord, "startedMs" | "endedMs">>): number {
  const edges: Array<[number, number]> = [];
  for (const r of records) {
    if (r.startedMs === undefined) continue;
    edges.push([r.startedMs, 1], [r.endedMs ?? Infinity, -1]);
  }
  // Ends before starts at the same instant: back-to-back requests do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

export interface Emulator {
  /** REST base URL and S3 endpoint, e.g. http://127.0.0.1:40123 (https:// with `tls`) */
  url: string;
  /** The `endpoint` apply answers give: `127.0.0.1:40123` with `tls`, else the same as `url`. */
  objectEndpoint: string;
  /** How REST errors are answered (see EmulatorOptions.errors). */
  errors: ErrorStyle;
  /** With `tls`: the PEM of the CA that signed the server certificate, for a client to trust. */
  caPem?: string;
  /** With `tls`: where that PEM was written, `<dataDir>/ca.pem` (for NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, AWS_CA_BUNDLE). */
  caPath?: string;
  apiKey: string;
  dataDir: string;
  bucketName: string;
  region: string;
  faults: FaultInjector;
  requests(): ReadonlyArray<RequestRecord>;
  clearRequests(): void;
  listObjects(prefix?: string): Array<{ key: string; size: number; etag: string }>;
  readObject(key: string): Promise<Buffer>;
  /** Names of the managed volumes, which the stage API shows as stages. */
  listStageNames(): string[];
  /** Names of all volumes, managed and external. */
  listVolumeNames(): string[];
  /** Closes the server and its connections; the data stays on disk. */
  stop(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, retryAfterSeconds?: number): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  if (retryAfterSeconds !== undefined) res.setHeader("retry-after", String(retryAfterSeconds));
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "zilliz-stage-emulator-")));
  await fs.mkdir(dataDir, { recursive: true });
  const store = await Store.open(dataDir);
  const specs = options.collections?.length ? options.collections : [DEFAULT_COLLECTION];
  const schemas = new Map(Object.entries(options.collectionFields ?? {}).map(([spec, fields]) => [collectionKey(parseCollectionSpec(spec)), fields]));
  const named = new Set(specs.map((spec) => collectionKey(parseCollectionSpec(spec))));
  for (const [spec, key] of Object.keys(options.collectionFields ?? {}).map((spec) => [spec, collectionKey(parseCollectionSpec(spec))])) {
    // Fields for a collection nobody named would be dropped without a word.
    if (!named.has(key)) throw new Error(`collection fields for ${spec}, which is not among the collections (${specs.join(", ")}): name it with --collection too`);
  }
  const collectionRows = await Collections.open(dataDir, specs.map(parseCollectionSpec), schemas);
  // Live: a collection a merge makes is known to the import calls at once.
  const collections = collectionRows.known;
  const apiKey = options.apiKey ?? randomBytes(18).toString("base64url");
  const bucketName = options.bucketName ?? "zilliz-stages";
  const region = options.region ?? "us-west-2";
  const faults = new FaultInjector();
  // The one place import jobs meet the store: a volume's objects are its
  // prefix + path. A stage is a managed volume, so both names resolve here;
  // an external volume's files live in the user's bucket, which the
  // emulator does not have: to a job, they do not exist.
  const managed = (name: string) => {
    const volume = store.volume(name);
    return volume?.type === "MANAGED" ? volume : undefined;
  };
  const stagedFiles: StagedFiles = {
    exists: (source) => managed(source.name) !== undefined,
    list: (source, dir) => {
      const prefix = managed(source.name)?.prefix;
      return prefix === undefined ? [] : store.listObjects(prefix + dir).map((o) => o.key.slice(prefix.length));
    },
    read: async (source, p) => {
      const volume = managed(source.name);
      return volume && store.object(volume.prefix + p) ? fs.readFile(store.objectFile(volume.prefix + p)) : undefined;
    },
  };
  const rowsPerSecond = options.importRowsPerSecond ?? DEFAULT_IMPORT_ROWS_PER_SECOND;
  const jobs = await ImportJobs.open({ dataDir, files: stagedFiles, rowsPerSecond, stepMs: 100, onCompleted: storeImportedRows(stagedFiles, collectionRows) });
  const merges = await MergeJobs.open({ dataDir, files: stagedFiles, collections: collectionRows, rowsPerSecond, stepMs: 100 });
  let log: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<ServerResponse>();
  const errors = options.errors ?? "code";
  const settings: ControlPlaneSettings = {
    apiKey,
    objectEndpoint: "",
    bucketName,
    region,
    credentialTtlSeconds: options.credentialTtlSeconds ?? 3600,
    maxContentLength: options.maxContentLength ?? 10 * 1024 ** 3,
    maxFileNumber: options.maxFileNumber ?? 1000,
    errors,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<RequestRecord | undefined> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    // Declared, not counted: a 'data' listener here would start the stream
    // flowing before the handlers attach their own consumers.
    const bytes = Number(req.headers["x-amz-decoded-content-length"] ?? req.headers["content-length"] ?? 0) || 0;

    if (url.pathname.startsWith("/__emulator/")) {
      await handleAdmin(req, res, url);
      return undefined;
    }

    const rest = url.pathname.startsWith("/v2/") ? restRoute(method, url.pathname) : undefined;
    const importCall = url.pathname.startsWith("/v2/") && !rest ? importKind(method, url.pathname) : undefined;
    const mergeCall = url.pathname.startsWith("/v2/") && !rest && !importCall ? mergeKind(method, url.pathname) : undefined;
    let target: S3Target = { bucket: "", key: "" };
    let badUri: S3Error | undefined;
    try {
      if (!url.pathname.startsWith("/v2/")) target = s3Target((req.url ?? "/").split("?")[0]);
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      badUri = err;
    }
    const kind: RequestKind = rest?.kind ?? importCall ?? mergeCall ?? s3Kind(method, target, url.searchParams);
    const record: RequestRecord = { kind, method, path: url.pathname, status: 0, bytes: 0 };
    if (!rest && !importCall && !mergeCall && target.key) record.key = target.key;

    const fault = faults.next(kind);
    if (fault.kind !== "none" && fault.kind !== "stall" && fault.kind !== "lose" && fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.kind === "stall") {
      stalled.add(res);
      record.status = -1;
      return record;
    }
    if (fault.kind === "reset") {
      req.socket.destroy();
      record.status = -1;
      return record;
    }
    if (fault.kind === "status") {
      req.resume();
      if (rest || url.pathname.startsWith("/v2/")) {
        sendJson(res, fault.status, { code: fault.status, message: "injected fault" }, fault.retryAfterSeconds);
      } else {
        if (fault.retryAfterSeconds !== undefined) res.setHeader("retry-after", String(fault.retryAfterSeconds));
        // A 501 is what a store without the call answers (NotImplemented), not a failure worth retrying.
        const code = fault.status === 503 ? "SlowDown" : fault.status === 501 ? "NotImplemented" : fault.status >= 500 ? "InternalError" : "InjectedFault";
        sendS3Error(res, method, new S3Error(fault.status, code, "injected fault"), url.pathname);
      }
      record.status = fault.status;
      return record;
    }

    if (url.pathname.startsWith("/v2/")) {
      const raw = await readBody(req);
      let reply: Reply;
      if (!isAuthorized(req, apiKey)) {
        reply = fail(errors, "invalidApiKey", "Invalid API key: check the Authorization: Bearer header");
      } else if (rest) {
        reply = await handleRest(rest, url, raw, store, settings);
      } else if (importCall) {
        reply = await handleImport(importCall, raw, req.headers, { collections, jobs, files: stagedFiles, faults });
      } else if (mergeCall) {
        reply = await handleMerge(mergeCall, url.pathname, raw, { collections: collectionRows, merges, imports: jobs, faults });
      } else {
        // An unknown path is the router's answer, not the API's: a real 404 in either style.
        reply = { ...fail(errors, "malformedRequest", `Invalid request: no such call ${method} ${url.pathname}`), status: 404 };
      }
      // The service's request id, in the header (as the Terraform provider
      // reads it) and in every error body, so a client's errors can quote it.
      const requestId = randomBytes(8).toString("hex");
      const body = reply.body as { code: number };
      record.code = body.code;
      if (fault.kind === "lose") {
        // The work is done; the answer never arrives.
        if (fault.delayMs > 0) await sleep(fault.delayMs);
        req.socket.destroy();
        record.status = -1;
        return record;
      }
      res.setHeader("requestid", requestId);
      sendJson(res, reply.status, body.code === 0 ? body : { ...body, requestId });
    } else {
      try {
        if (badUri) throw badUri;
        const cred = await authenticate(req, store, region);
        await handleS3(kind, req, res, target, url.searchParams, cred, { store, bucketName, region, corruptBody: fault.kind === "corrupt" });
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        // The body of a refused upload is not read; close so it is not taken for the next request.
        res.setHeader("connection", "close");
        req.resume();
        sendS3Error(res, method, err, url.pathname);
      }
    }
    record.status = res.statusCode;
    record.bytes = bytes;
    return record;
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = await readBody(req);
    // The admin API is the emulator's own: always HTTP statuses.
    const refuse = (status: number, kind: "invalidApiKey" | "malformedRequest", message: string) =>
      sendJson(res, status, fail("http", kind, message).body);
    if (!isAuthorized(req, apiKey)) return refuse(401, "invalidApiKey", "Invalid API key");
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
      faults.add(spec.data);
      return sendJson(res, 200, { code: 0, data: { pending: faults.pending() } });
    }
    if (route === "DELETE /__emulator/faults") {
      faults.clear();
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
      const updated = await store.updateVolume(name, { status: parsed.data.status });
      if (!updated) return refuse(404, "malformedRequest", `volume ${name} does not exist`);
      return sendJson(res, 200, { code: 0, data: { volumeName: name, status: parsed.data.status } });
    }
    if (route === "GET /__emulator/requests") return sendJson(res, 200, { code: 0, data: log });
    if (req.method === "GET" && url.pathname.startsWith(COLLECTIONS_ROUTE)) {
      const [location, dbName, collectionName, ...rest] = url.pathname.slice(COLLECTIONS_ROUTE.length).split("/").map(decodeURIComponent);
      const page = inspectCollection(collectionRows, { location, dbName, collectionName }, url.searchParams);
      if (rest.length > 0 || !page) return refuse(404, "malformedRequest", `collection ${url.pathname.slice(COLLECTIONS_ROUTE.length)} does not exist`);
      return sendJson(res, 200, { code: 0, data: page });
    }
    if (route === "DELETE /__emulator/requests") {
      log = [];
      return sendJson(res, 200, { code: 0, data: {} });
    }
    return refuse(404, "malformedRequest", `no admin route ${route}`);
  }

  const listener: RequestListener = (req, res) => {
    const startedMs = performance.now();
    let closedMs: number | undefined;
    res.once("close", () => (closedMs = performance.now()));
    handle(req, res)
      .then((record) => {
        if (!record) return;
        record.startedMs = startedMs;
        if (closedMs !== undefined) record.endedMs = closedMs;
        else res.once("close", () => (record.endedMs = closedMs));
        log.push(record);
      })
      .catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { code: 500, message: `emulator error: ${(err as Error).message}` });
        else res.destroy();
      });
  };
  const certificates = options.tls ? (await import("./tls")).makeLocalCertificates(options.host ? [options.host] : []) : undefined;
  const server: Server = certificates
    ? (await import("node:https")).createServer({ cert: certificates.certPem, key: certificates.keyPem }, listener)
    : createServer(listener);
  server.keepAliveTimeout = 5_000;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  }).catch(async (err) => {
    // Jobs resumed from the data dir must not keep running without a server.
    await jobs.stop();
    await merges.stop();
    throw err;
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the emulator could not bind a TCP port");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${certificates ? "https" : "http"}://${host}:${address.port}`;
  settings.objectEndpoint = certificates ? `${host}:${address.port}` : url;
  let caPath: string | undefined;
  if (certificates) {
    caPath = path.join(dataDir, "ca.pem");
    await fs.writeFile(caPath, certificates.caPem);
  }

  return {
    url,
    objectEndpoint: settings.objectEndpoint,
    errors,
    ...(certificates ? { caPem: certificates.caPem, caPath } : {}),
    apiKey,
    dataDir,
    bucketName,
    region,
    faults,
    requests: () => log,
    clearRequests: () => {
      log = [];
    },
    listObjects: (prefix?: string) => store.listObjects(prefix).map(({ key, size, etag }) => ({ key, size, etag })),
    readObject: (key: string) => fs.readFile(store.objectFile(key)),
    listStageNames: () => store.volumeNames("MANAGED"),
    listVolumeNames: () => store.volumeNames(),
    stop: async () => {
      faults.clear();
      await jobs.stop();
      await merges.stop();
      for (const res of stalled) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
