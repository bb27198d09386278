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
import { AdminContext, handleAdmin } from "./admin-routes";
import { collectionKey, Collections } from "./collections";
import type { Emulator, EmulatorOptions } from "./emulator-options";
import { ControlPlaneSettings, fail, handleRest, isAuthorized, Reply, restRoute } from "./control-plane";
import { FaultInjector, RequestKind } from "./faults";
import { readBody, sendJson } from "./http-json";
import { DEFAULT_IMPORT_ROWS_PER_SECOND, ImportJobs } from "./import-jobs";
import { DEFAULT_COLLECTION, handleImport, importKind, parseCollectionSpec } from "./import-routes";
import { storeImportedRows } from "./import-rows";
import { MergeJobs } from "./merge-jobs";
import { handleMerge, mergeKind } from "./merge-routes";
import { authenticate } from "./object-auth";
import { jobFiles, ObjectUrlFiles } from "./object-urls";
import type { RequestRecord } from "./request-log";
import { handleS3, S3Error } from "./s3";
import { s3Kind, s3Target, type S3Target } from "./s3-target";
import { sendS3Error } from "./s3-xml";
import { stagedView } from "./staged-view";
import { Store } from "./store";

export { peakOverlap } from "./request-log";
export type { RequestRecord } from "./request-log";
export type { Emulator, EmulatorOptions } from "./emulator-options";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  if (options.dataDir !== undefined) return startIn(options.dataDir, options, false);
  // A directory made here is removed by stop(), or at once if the start
  // fails: nobody else knows of it, and every test that started an emulator
  // without one left it behind.
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "zilliz-stage-emulator-"));
  try {
    return await startIn(dataDir, options, true);
  } catch (err) {
    await removeOwnDir(dataDir);
    throw err;
  }
}

/** Never fails: a directory left behind is no reason to hide the error (or the stop) that came first. */
async function removeOwnDir(dataDir: string): Promise<void> {
  await fs.rm(dataDir, { recursive: true, force: true, maxRetries: 3 }).catch((err: Error) => {
    process.emitWarning(`the emulator could not remove its temporary data directory ${dataDir}: ${err.message}`);
  });
}

async function startIn(dataDir: string, options: EmulatorOptions, ownDir: boolean): Promise<Emulator> {
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
  const stagedFiles = stagedView(store);
  const rowsPerSecond = options.importRowsPerSecond ?? DEFAULT_IMPORT_ROWS_PER_SECOND;
  const objectUrls = new ObjectUrlFiles(options.objectUrlEndpoint);
  const importFiles = jobFiles(stagedFiles, objectUrls);
  const jobs = await ImportJobs.open({ dataDir, files: importFiles, rowsPerSecond, stepMs: 100, onCompleted: storeImportedRows(importFiles, collectionRows) });
  const merges = await MergeJobs.open({ dataDir, files: stagedFiles, collections: collectionRows, rowsPerSecond, stepMs: 100 });
  let log: RequestRecord[] = [];
  const admin: AdminContext = {
    apiKey,
    faults,
    store,
    collections: collectionRows,
    objectUrls,
    requests: () => log,
    clearRequests: () => {
      log = [];
    },
  };
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
      await handleAdmin(req, res, url, admin);
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
        reply = await handleImport(importCall, raw, req.headers, { collections, jobs, files: stagedFiles, objects: objectUrls, faults });
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
    requests: admin.requests,
    clearRequests: admin.clearRequests,
    listObjects: (prefix?: string) => store.listObjects(prefix).map(({ key, size, etag }) => ({ key, size, etag })),
    readObject: (key: string) => fs.readFile(store.objectFile(key)),
    listStageNames: () => store.volumeNames("MANAGED"),
    listVolumeNames: () => store.volumeNames(),
    setObjectUrlEndpoint: (endpoint) => {
      objectUrls.endpoint = endpoint;
    },
    stop: async () => {
      faults.clear();
      await jobs.stop();
      await merges.stop();
      for (const res of stalled) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      if (ownDir) await removeOwnDir(dataDir);
    },
  };
}
