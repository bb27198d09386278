/**
 * What startEmulator takes and gives back: its options (each also a CLI
 * flag, see cli.ts) and the handle a test holds. Apart from server.ts so
 * that the server stays about serving.
 */
import type { Field } from "./collections";
import type { ErrorStyle } from "./control-plane";
import type { FaultInjector } from "./faults";
import type { RequestRecord } from "./request-log";

export interface EmulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where stages and objects persist; default a fresh temp directory, which `stop()` removes. */
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
  /**
   * Where imports read `s3://bucket/key` object URLs (path-style, signed
   * with the import's accessKey and secretKey), e.g. another S3 server a
   * test started. Without it such imports fail saying so; http(s) URLs on
   * loopback are read directly either way.
   */
  objectUrlEndpoint?: string;
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
  /** Points `s3://` object URLs at another endpoint (or at none), as the objectUrlEndpoint option does. */
  setObjectUrlEndpoint(endpoint: string | undefined): void;
  /** Closes the server and its connections; the data stays on disk in a `dataDir` it was given, and a temporary one it made is removed. */
  stop(): Promise<void>;
}
