/**
 * The recording S3 proxy of scripts/s3-proxy.js (shared with the
 * benchmarks), with its types.
 */
import type { IncomingMessage } from "node:http";

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** The session token the request was signed with, if any. */
  token?: string;
  /** The access key id its SigV4 signature names. */
  accessKey?: string;
  /** Set when the proxy answered with an error instead of the server. */
  refused?: string;
  /** Set when the proxy broke the answer off after this many body bytes. */
  cut?: number;
}

export interface S3Proxy {
  url: string;
  seen: SeenRequest[];
  /** Return an S3 error code (and status) to answer a request with it; undefined forwards it. */
  refuse?: (req: SeenRequest) => { status: number; code: string } | undefined;
  /** Like refuse, but sees the whole request (e.g. to check its signature): a store that checks what gofakes3 does not. */
  gate?: (req: IncomingMessage, seen: SeenRequest) => Promise<{ status: number; code: string } | undefined>;
  /** A byte count breaks that request's answer off after so many body bytes; undefined forwards it whole. */
  cut?: (req: SeenRequest) => number | undefined;
  close(): Promise<void>;
}

const shared = require("../../scripts/s3-proxy") as { startS3Proxy: (target: string) => Promise<S3Proxy> };

/** A proxy on a free loopback port in front of the S3 server at `target`. */
export const startS3Proxy = (target: string): Promise<S3Proxy> => shared.startS3Proxy(target);
