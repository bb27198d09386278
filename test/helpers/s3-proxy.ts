/**
 * A pass-through HTTP proxy in front of a real S3 server (gofakes3 here),
 * recording every request and able to answer some itself with an S3 error:
 * what a store that refuses a key, or a credential that expires, looks like
 * on the wire. The server behind it does the S3 work.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

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
}

export interface S3Proxy {
  url: string;
  seen: SeenRequest[];
  /** Return an S3 error code (and status) to answer a request with it; undefined forwards it. */
  refuse?: (req: SeenRequest) => { status: number; code: string } | undefined;
  close(): Promise<void>;
}

export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const to = new URL(target);
  const proxy: S3Proxy = { url: "", seen: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? "", url: req.url ?? "" };
    const token = req.headers["x-amz-security-token"];
    if (typeof token === "string") seen.token = token;
    const signedBy = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? "");
    if (signedBy) seen.accessKey = signedBy[1];
    proxy.seen.push(seen);
    const refusal = proxy.refuse?.(seen);
    if (refusal) {
      seen.refused = refusal.code;
      req.resume();
      res.writeHead(refusal.status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>refused by the test</Message><RequestId>proxy</RequestId></Error>`);
      return;
    }
    const upstream = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
