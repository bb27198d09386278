// The object source's GET client (http-get.ts) over TLS: servers on this
// machine with certificates from a test CA (made with the openssl CLI), and
// the client in a child process that trusts the CA through
// NODE_EXTRA_CA_CERTS, as a user's process would (the client has no CA
// option of its own). Bodies read whole and byte-exact in every framing,
// read in pieces so that reading pauses (TLS hands over decrypted bytes
// after a pause), and certificates for another host, or from a CA nobody
// trusts, refused with errors that say so.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as dns } from "node:dns";
import { promises as fs } from "node:fs";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { DIST } from "../helpers/as-user";
import { collect } from "../helpers/child";
import { mkTmp, rmTmp } from "../helpers/fs";

const hasOpenssl = spawnSync("openssl", ["version"], { stdio: "ignore" }).error === undefined;
// CI installs it (.ci/run): there, a missing openssl is a broken set-up, not a reason to skip.
if (!hasOpenssl && process.env.CI) throw new Error("the openssl CLI is missing; .ci/run installs it (Debian package openssl)");

interface Pem {
  key: string;
  cert: string;
}

/** A CA (self-signed), or a server certificate signed by `ca` for `altNames` (openssl's subjectAltName syntax). */
async function certificate(dir: string, name: string, signer?: { ca: string; caKey: string; altNames: string }): Promise<Pem> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key];
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  if (!signer) {
    run(["req", "-x509", ...ec, "-days", "2", "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out", cert]);
  } else {
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    await fs.writeFile(ext, `subjectAltName=${signer.altNames}\nextendedKeyUsage=serverAuth\n`);
    run(["req", "-new", ...ec, "-subj", `/CN=${name}`, "-out", csr]);
    run(["x509", "-req", "-in", csr, "-CA", signer.ca, "-CAkey", signer.caKey, "-set_serial", String(Date.now()), "-days", "2", "-extfile", ext, "-out", cert]);
  }
  return { key: await fs.readFile(key, "utf8"), cert };
}

const MiB = 1024 * 1024;
const body = randomBytes(3 * MiB + 7);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The chunked encoding of `b`, in chunks of uneven sizes (upper-case hex, an extension on one). */
function chunked(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < b.length; i++) {
    const n = Math.min(b.length - at, [1, 70_001, 16_384, 300_000][i % 4]);
    parts.push(Buffer.from(`${n.toString(16).toUpperCase()}${i === 2 ? ";x=y" : ""}\r\n`), b.subarray(at, at + n), Buffer.from("\r\n"));
    at += n;
  }
  return Buffer.concat([...parts, Buffer.from("0\r\n\r\n")]);
}

/** An HTTPS server with `pem` on `host` answering exact bytes: /length, /chunked, /close (a body ended by the connection). */
async function server(pem: Pem, host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = tls.createServer({ key: pem.key, cert: await fs.readFile(pem.cert), ALPNProtocols: ["http/1.1"] }, (s) => {
    s.on("error", () => {});
    let text = "";
    s.on("data", (d) => {
      text += d.toString("latin1");
      for (let end; (end = text.indexOf("\r\n\r\n")) >= 0; text = text.slice(end + 4)) {
        const url = / (\S+) /.exec(text)![1];
        if (url === "/chunked") s.write(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"), chunked(body)]));
        else if (url === "/close") s.end(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"), body]));
        else s.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body]));
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => srv.close(() => resolve())) };
}

/**
 * The client, in a child that trusts `caFile`: GETs each of `gets` and
 * reads its body in pieces of 37 KiB + 1 (so reading pauses mid-read, again
 * and again), yielding between pieces. Prints, per GET, the body's length
 * and SHA-256, or the error and how the retry policy classes it.
 */
const CHILD = `
const { HttpGetClient } = require(process.env.DIST + "/upload/http-get.js");
const { classifyS3 } = require(process.env.DIST + "/upload/s3.js");
const { createHash } = require("node:crypto");
(async () => {
  const out = [];
  const client = new HttpGetClient({ timeoutMs: 10000 });
  for (const t of JSON.parse(process.env.GETS)) {
    try {
      const res = await client.get({ protocol: "https:", ...t }, { host: t.hostname });
      const buf = Buffer.alloc(37 * 1024 + 1);
      const hash = createHash("sha256");
      let size = 0;
      for (let n; (n = await res.readInto(buf)) > 0; size += n) {
        hash.update(buf.subarray(0, n));
        await new Promise((r) => setImmediate(r));
      }
      out.push({ size, sha256: hash.digest("hex") });
    } catch (e) {
      out.push({ code: e.code, message: e.message, failure: classifyS3(e) });
    }
  }
  client.close();
  process.stdout.write(JSON.stringify(out) + "\\n");
})();
`;

async function getInChild(caFile: string, gets: Array<{ hostname: string; port: number; path: string }>): Promise<any[]> {
  const child = spawn(process.execPath, ["-e", CHILD], {
    env: { PATH: process.env.PATH ?? "", DIST, GETS: JSON.stringify(gets), NODE_EXTRA_CA_CERTS: caFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { code, stdout, stderr } = await collect(child);
  if (code !== 0) throw new Error(`the child exited ${code}\n${stdout}\n${stderr}`);
  return JSON.parse(stdout);
}

(hasOpenssl ? describe : describe.skip)("the GET client over TLS (needs the openssl CLI for the test certificates)", () => {
  let dir: string;
  let caFile: string;
  /** What localhost resolves to here, as the client's connect resolves it: the servers listen there. */
  let ip: string;
  let servers: Array<{ port: number; close: () => Promise<void> }> = [];
  let good: number;
  let otherName: number;
  let untrusted: number;

  beforeAll(async () => {
    dir = await mkTmp();
    ip = (await dns.lookup("localhost")).address;
    const ca = await certificate(dir, "test-ca");
    caFile = ca.cert;
    const signedBy = (c: Pem, altNames: string) => ({ ca: c.cert, caKey: path.join(dir, `${path.basename(c.cert, ".pem")}.key`), altNames });
    const leaf = await certificate(dir, "leaf", signedBy(ca, `DNS:localhost,IP:${ip}`));
    const other = await certificate(dir, "other", signedBy(ca, "DNS:other.example,IP:192.0.2.1"));
    const rogueCa = await certificate(dir, "rogue-ca");
    const rogue = await certificate(dir, "rogue", signedBy(rogueCa, `DNS:localhost,IP:${ip}`));
    servers = await Promise.all([leaf, other, rogue].map((p) => server(p, ip)));
    [good, otherName, untrusted] = servers.map((s) => s.port);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rmTmp(dir);
  });

  test("a body read whole and byte-exact, by name and by IP, framed by Content-Length, chunked or by the connection's end", async () => {
    const ipHost = ip.includes(":") ? `[${ip}]` : ip;
    const gets = ["/length", "/chunked", "/close"].flatMap((p) => [
      { hostname: "localhost", port: good, path: p },
      { hostname: ipHost, port: good, path: p },
    ]);
    const whole = { size: body.length, sha256: sha256(body) };
    expect(await getInChild(caFile, gets)).toEqual(gets.map(() => whole));
  });

  test("a certificate for another host is refused, by name (SNI and the name checked) and by IP (the IP SANs checked)", async () => {
    const ipHost = ip.includes(":") ? `[${ip}]` : ip;
    const got = await getInChild(caFile, [
      { hostname: "localhost", port: otherName, path: "/length" },
      { hostname: ipHost, port: otherName, path: "/length" },
    ]);
    const refused = (what: RegExp) => ({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
      message: expect.stringMatching(what),
      failure: { transient: false, fix: expect.stringMatching(/certificate/), networkCode: "ERR_TLS_CERT_ALTNAME_INVALID" },
    });
    expect(got).toEqual([refused(/Host: localhost\. is not in the cert's altnames: DNS:other\.example/), refused(new RegExp(`IP: ${ip.replace(/\./g, "\\.")} is not in the cert's list`))]);
  });

  test("a certificate from a CA the process does not trust is refused", async () => {
    const got = await getInChild(caFile, [{ hostname: "localhost", port: untrusted, path: "/length" }]);
    expect(got).toEqual([
      {
        code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        message: expect.stringMatching(/unable to verify the first certificate/),
        failure: { transient: false, fix: expect.stringMatching(/TLS certificate is not trusted .*NODE_EXTRA_CA_CERTS/), networkCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
      },
    ]);
  });
});
