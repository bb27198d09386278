// A pass-through HTTP proxy in front of a real S3 server (gofakes3 in the
// tests and benchmarks), recording every request and able to answer some
// itself with an S3 error: what a store that refuses a key, or a credential
// that expires, looks like on the wire. The server behind it does the S3
// work. test/helpers/s3-proxy.ts gives it types.
"use strict";
const http = require("node:http");

/**
 * Starts the proxy on a free loopback port. `proxy.seen` lists
 * { method, url, token?, accessKey?, refused? }; set `proxy.refuse` to a
 * function of such a record returning { status, code } to answer with that
 * S3 error instead of forwarding, or `proxy.gate` to an async function of
 * the whole request and the record that does the same (to check a
 * signature, which gofakes3 does not). `proxy.cut`, a function of the
 * record returning a byte count, forwards only that many bytes of the
 * answer's body and then breaks the connection, as a network that fails
 * mid-object does.
 */
async function startS3Proxy(target) {
  const to = new URL(target);
  const proxy = { url: "", seen: [], refuse: undefined, gate: undefined, cut: undefined, close: async () => undefined };
  async function serve(req, res) {
    const seen = { method: req.method ?? "", url: req.url ?? "" };
    const token = req.headers["x-amz-security-token"];
    if (typeof token === "string") seen.token = token;
    const signedBy = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? "");
    if (signedBy) seen.accessKey = signedBy[1];
    proxy.seen.push(seen);
    // The body waits, paused, while the gate looks: nothing reads it before the pipe below.
    const refusal = proxy.refuse?.(seen) ?? (await proxy.gate?.(req, seen));
    if (refusal) {
      seen.refused = refusal.code;
      req.resume();
      res.writeHead(refusal.status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>refused by the proxy</Message><RequestId>proxy</RequestId></Error>`);
      return;
    }
    const cutAt = proxy.cut?.(seen);
    const upstream = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (cutAt === undefined) return answer.pipe(res);
      seen.cut = cutAt;
      let sent = 0;
      answer.on("data", (chunk) => {
        if (sent + chunk.length < cutAt) {
          sent += chunk.length;
          return res.write(chunk);
        }
        answer.destroy();
        // Destroyed once those bytes (and the headers) are on the wire: the break comes mid-body.
        res.write(chunk.subarray(0, cutAt - sent), () => res.destroy());
      });
      answer.on("end", () => res.end());
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }
  // A gate that fails ends that one response, never the proxy.
  const server = http.createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

module.exports = { startS3Proxy };
