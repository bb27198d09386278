// The object source's GET client (http-get.ts) against real servers on
// 127.0.0.1: node:http for well-formed answers, raw sockets for the ones a
// store may send that node:http would not (a body ended by the connection,
// a connection dropped mid-body).
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { HttpGetClient } from "../../provider/upload/http-get";

const KiB = 1024;

async function listen<T extends net.Server>(server: T): Promise<{ server: T; port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const target = (port: number, path = "/o") => ({ protocol: "http:", hostname: "127.0.0.1", port, path });

describe("the GET client", () => {
  const body = randomBytes(700 * KiB + 3);
  let sockets = 0;
  let requests: http.IncomingMessage[] = [];
  let srv: Awaited<ReturnType<typeof listen<http.Server>>>;

  beforeAll(async () => {
    srv = await listen(
      http.createServer((req, res) => {
        requests.push(req);
        if (req.url === "/chunked") {
          // No length: node:http sends it chunked, in pieces, with a trailer.
          res.writeHead(200, { trailer: "x-t" });
          for (let at = 0; at < body.length; at += 100 * KiB) res.write(body.subarray(at, at + 100 * KiB));
          res.addTrailers({ "x-t": "1" });
          return res.end();
        }
        if (req.url === "/missing") {
          res.writeHead(404, { "content-type": "application/xml" });
          return res.end("<Error><Code>NoSuchKey</Code></Error>");
        }
        if (req.url === "/silent") return;
        res.writeHead(200, { "content-length": String(body.length), etag: '"e"' });
        res.end(body);
      }),
    );
    srv.server.on("connection", () => sockets++);
  });
  afterAll(() => srv.close());
  beforeEach(() => {
    sockets = 0;
    requests = [];
  });

  test("a body is copied into the caller's buffer in whatever pieces it asks for, and the connection serves the next GET", async () => {
    const client = new HttpGetClient({ timeoutMs: 5000 });
    try {
      for (let round = 0; round < 2; round++) {
        const res = await client.get(target(srv.port), { host: "x", "x-amz-test": "1" });
        expect([res.status, res.headers.etag, res.headers["content-length"]]).toEqual([200, '"e"', String(body.length)]);
        const out = Buffer.alloc(body.length + 10);
        let at = 0;
        // Pieces smaller and larger than a socket read: bytes wait, held, between calls.
        for (const step of [1, 5 * KiB, 300 * KiB, 1, 1024 * KiB]) {
          const n = await res.readInto(out, at, Math.min(out.length, at + step));
          at += n;
        }
        expect(at).toBe(body.length);
        expect(out.subarray(0, at).equals(body)).toBe(true);
        expect(await res.readInto(out, 0, 10)).toBe(0);
      }
      expect(requests.map((r) => r.headers["x-amz-test"])).toEqual(["1", "1"]);
      expect(sockets).toBe(1);
    } finally {
      client.close();
    }
  });

  test("a chunked body reads whole, through forEach or readInto, and leaves the connection reusable", async () => {
    const client = new HttpGetClient({ timeoutMs: 5000 });
    try {
      const parts: Buffer[] = [];
      const res = await client.get(target(srv.port, "/chunked"), { host: "x" });
      expect(await res.forEach((v) => parts.push(Buffer.from(v)))).toBe(body.length);
      expect(Buffer.concat(parts).equals(body)).toBe(true);
      const again = await client.get(target(srv.port, "/chunked"), { host: "x" });
      const out = Buffer.alloc(body.length);
      let at = 0;
      for (let n; (n = await again.readInto(out, at, Math.min(out.length, at + 64 * KiB))) > 0; ) at += n;
      expect(at).toBe(body.length);
      expect(out.equals(body)).toBe(true);
      expect(sockets).toBe(1);
    } finally {
      client.close();
    }
  });

  test("an error answer's body reads as text; an answer that never comes times out", async () => {
    const client = new HttpGetClient({ timeoutMs: 300 });
    try {
      const res = await client.get(target(srv.port, "/missing"), { host: "x" });
      expect(res.status).toBe(404);
      expect(await res.text()).toBe("<Error><Code>NoSuchKey</Code></Error>");
      await expect(client.get(target(srv.port, "/silent"), { host: "x" })).rejects.toMatchObject({ code: "ETIMEDOUT" });
    } finally {
      client.close();
    }
  });

  test("a stop cuts off a body being read", async () => {
    const client = new HttpGetClient({ timeoutMs: 5000 });
    const stop = new AbortController();
    try {
      const res = await client.get(target(srv.port), { host: "x" }, stop.signal);
      expect(await res.readInto(Buffer.alloc(KiB))).toBe(KiB);
      stop.abort();
      await expect(res.readInto(Buffer.alloc(body.length))).rejects.toThrow();
      await expect(client.get(target(srv.port), { host: "x" }, stop.signal)).rejects.toThrow();
    } finally {
      client.close();
    }
  });

  test("a reused connection the server had closed is replaced without failing the request", async () => {
    const closing = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { "content-length": "2" });
        res.end("ok");
      }),
    );
    let opened = 0;
    closing.server.on("connection", (s: net.Socket) => {
      opened++;
      // Closed by the server once its answer is out, without saying so: the client still holds it as idle.
      s.on("data", () => setTimeout(() => s.destroy(), 50));
    });
    const client = new HttpGetClient({ timeoutMs: 5000 });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await client.get(target(closing.port), { host: "x" });
        expect(await res.text()).toBe("ok");
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(opened).toBe(2);
    } finally {
      client.close();
      await closing.close();
    }
  });

  test("a body ended by the connection is whole at its end; one cut short of its length gives its bytes, then fails", async () => {
    const raw = await listen(
      net.createServer((s) => {
        s.once("data", (req) => {
          if (req.toString().startsWith("GET /close ")) s.end(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"), body]));
          else s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body.subarray(0, 1000)]));
        });
      }),
    );
    const client = new HttpGetClient({ timeoutMs: 5000 });
    try {
      const whole = await client.get(target(raw.port, "/close"), { host: "x" });
      const parts: Buffer[] = [];
      await whole.forEach((v) => parts.push(Buffer.from(v)));
      expect(Buffer.concat(parts).equals(body)).toBe(true);

      const cut = await client.get(target(raw.port, "/cut"), { host: "x" });
      const out = Buffer.alloc(body.length);
      // The bytes that came are the caller's (a resumed read starts after them); the next read fails.
      expect(await cut.readInto(out)).toBe(1000);
      expect(out.subarray(0, 1000).equals(body.subarray(0, 1000))).toBe(true);
      await expect(cut.readInto(out, 1000)).rejects.toMatchObject({ code: "ECONNRESET" });
    } finally {
      client.close();
      await raw.close();
    }
  });
});
