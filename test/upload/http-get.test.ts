// The object source's GET client (http-get.ts) against real servers on
// 127.0.0.1: node:http for well-formed answers, raw sockets for the ones a
// store may send that node:http would not (a body ended by the connection,
// a connection dropped mid-body).
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { HttpGetClient } from "../../provider/upload/http-get";
import { classifyS3 } from "../../provider/upload/s3";

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
      // One byte of room past the body: the last call reads the closing chunk, which ends the answer
      // (a window that is empty gets 0 at once, and leaves the closing chunk unread).
      const out = Buffer.alloc(body.length + 1);
      let at = 0;
      for (let n; (n = await again.readInto(out, at, Math.min(out.length, at + 64 * KiB))) > 0; ) at += n;
      expect(at).toBe(body.length);
      expect(out.subarray(0, at).equals(body)).toBe(true);
      expect(again.ended).toBe(true);
      // Back in the pool: a third request goes on the same connection.
      expect(await (await client.get(target(srv.port, "/chunked"), { host: "x" })).forEach(() => undefined)).toBe(body.length);
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

/**
 * A server that answers each request with exact bytes: `answers[path]`, or a
 * function of the socket for the ones that must be sent in steps. It counts
 * the connections it took.
 */
async function rawServer(answers: Record<string, string | Buffer | ((s: net.Socket) => void)>) {
  let connections = 0;
  const raw = await listen(
    net.createServer((s) => {
      connections++;
      let text = "";
      s.on("error", () => {});
      s.on("data", (d) => {
        text += d.toString("latin1");
        for (let end; (end = text.indexOf("\r\n\r\n")) >= 0; text = text.slice(end + 4)) {
          const path = / (\S+) /.exec(text)![1];
          const answer = answers[path];
          if (typeof answer === "function") answer(s);
          else s.write(answer ?? "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
      });
    }),
  );
  return { ...raw, connections: () => connections };
}

/** The whole body of an answer, or the error reading it failed with. */
async function bodyOf(client: HttpGetClient, port: number, path: string): Promise<Buffer> {
  const res = await client.get(target(port, path), { host: "x" });
  const parts: Buffer[] = [];
  await res.forEach((v) => parts.push(Buffer.from(v)));
  return Buffer.concat(parts);
}

describe("what the GET client refuses rather than guess at", () => {
  const HEAD = "HTTP/1.1 200 OK\r\n";
  const refusals: Array<[string, string, RegExp]> = [
    // Either framing could be the one a proxy on the way used: the body's bytes are not known.
    ["content-length and transfer-encoding", `${HEAD}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, /both a Content-Length and a Transfer-Encoding/],
    ["conflicting content-lengths", `${HEAD}content-length: 5\r\ncontent-length: 6\r\n\r\nhello!`, /Content-Length "5, 6"/],
    ["a content-length that is not a number", `${HEAD}content-length: 5x\r\n\r\nhello`, /Content-Length "5x"/],
    ["a content-length over 2^53", `${HEAD}content-length: 18014398509481985\r\n\r\nhello`, /Content-Length "18014398509481985"/],
    // The body would be the coded bytes, not the object's: hashed and stored as if they were.
    ["a transfer coding other than chunked", `${HEAD}transfer-encoding: gzip\r\n\r\nhello`, /Transfer-Encoding "gzip"/],
    ["gzip under chunked", `${HEAD}transfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, /Transfer-Encoding "gzip, chunked"/],
    // A header name with white space before its colon is read differently by different parsers (request smuggling's favourite).
    ["white space before a header's colon", `${HEAD}content-length : 5\r\n\r\nhello`, /header line/],
    ["a folded header line", `${HEAD}x-a: 1\r\n content-length: 5\r\n\r\nhello`, /header line/],
    ["a header line without a colon", `${HEAD}content-length 5\r\n\r\nhello`, /header line/],
    ["a bare line feed in the head", `${HEAD}x-a: 1\ncontent-length: 5\r\n\r\nhello`, /header line/],
    ["a status of four digits", "HTTP/1.1 2000 OK\r\ncontent-length: 5\r\n\r\nhello", /not HTTP\/1\.x/],
    ["bytes before the status line", "xHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", /not HTTP\/1\.x/],
    ["a NUL in a header line", `${HEAD}x-a: 1\0\r\ncontent-length: 5\r\n\r\nhello`, /header line/],
    ["a content-length with a sign", `${HEAD}content-length: +5\r\n\r\nhello`, /Content-Length "\+5"/],
    ["101 Switching Protocols (never asked for)", "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", /101/],
  ];

  test.each(refusals)("%s: refused with ERR_HTTP_ANSWER, which is not retried", async (_name, answer, message) => {
    const raw = await rawServer({ "/a": answer });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      const err = await bodyOf(client, raw.port, "/a").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "ERR_HTTP_ANSWER", message: expect.stringMatching(message) });
      expect(classifyS3(err)).toEqual({ transient: false });
    } finally {
      client.close();
      await raw.close();
    }
  });

  const chunkRefusals: Array<[string, string, RegExp]> = [
    // parseInt read "0x5" as 0: the body ended there, "hello" taken for the whole object.
    ["a size with a 0x prefix", "5\r\nhello\r\n0x5\r\nworld\r\n0\r\n\r\n", /chunk size "0x5"/],
    ["a size followed by junk", "5\r\nhello\r\n5zz\r\nworld\r\n0\r\n\r\n", /chunk size "5zz"/],
    ["a size over 2^53", "20000000000001\r\nhello\r\n0\r\n\r\n", /chunk size "20000000000001"/],
    ["a negative size", "-5\r\nhello\r\n0\r\n\r\n", /chunk size "-5"/],
    ["data without its CRLF", "5\r\nhelloX\r\n0\r\n\r\n", /a chunk longer than its size/],
  ];

  test.each(chunkRefusals)("a chunked body with %s: the bytes before it come, then ERR_HTTP_ANSWER", async (_name, chunks, message) => {
    const raw = await rawServer({ "/c": `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunks}` });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      const res = await client.get(target(raw.port, "/c"), { host: "x" });
      const out = Buffer.alloc(100);
      let at = 0;
      const err = await (async () => {
        for (let n; (n = await res.readInto(out, at)) > 0; ) at += n;
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "ERR_HTTP_ANSWER", message: expect.stringMatching(message) });
      expect(out.toString("latin1", 0, at)).toMatch(/^(hello)?$/);
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("chunk extensions, upper-case sizes, identical repeated lengths and trailers read as the body they frame", async () => {
    const raw = await rawServer({
      "/ext": `HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n5 ;name=value\r\nhello\r\nA;x="a;b"\r\n0123456789\r\n000\r\nx-sum: 1\r\nx-more: 2\r\n\r\n`,
      "/twice": "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello",
      "/interim": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      expect((await bodyOf(client, raw.port, "/ext")).toString()).toBe("hello0123456789");
      expect((await bodyOf(client, raw.port, "/twice")).toString()).toBe("hello");
      expect((await bodyOf(client, raw.port, "/interim")).toString()).toBe("ok");
      expect(raw.connections()).toBe(1);
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("a status line without a reason phrase reads; `Connection: close` in any case, among other tokens, is not reused", async () => {
    const raw = await rawServer({
      "/bare": "HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok",
      // The server keeps the socket open: only the header says not to reuse it.
      "/close": "HTTP/1.1 200 OK\r\nConnection: Keep-Alive , CLOSE\r\ncontent-length: 2\r\n\r\nok",
    });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      expect((await bodyOf(client, raw.port, "/bare")).toString()).toBe("ok");
      expect(raw.connections()).toBe(1);
      expect((await bodyOf(client, raw.port, "/close")).toString()).toBe("ok");
      expect((await bodyOf(client, raw.port, "/close")).toString()).toBe("ok");
      expect(raw.connections()).toBe(2);
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("a 204, a 304 and an HTTP/1.0 answer: no body where none can be, and a 1.0 connection is not reused", async () => {
    const raw = await rawServer({
      "/204": "HTTP/1.1 204 No Content\r\n\r\n",
      "/304": "HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n",
      "/10": "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      expect(await bodyOf(client, raw.port, "/204")).toHaveLength(0);
      expect(await bodyOf(client, raw.port, "/304")).toHaveLength(0);
      expect(raw.connections()).toBe(1);
      expect((await bodyOf(client, raw.port, "/10")).toString()).toBe("ok");
      expect((await bodyOf(client, raw.port, "/10")).toString()).toBe("ok");
      expect(raw.connections()).toBe(2);
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("bytes past the body (more than Content-Length, or after a chunked end) close the connection: the next answer is the server's, not theirs", async () => {
    const raw = await rawServer({
      "/more": "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nEVIL!",
      "/chunked-more": "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nEVIL!",
      "/good": "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ngood",
    });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      for (const path of ["/more", "/chunked-more"]) {
        expect((await bodyOf(client, raw.port, path)).toString()).toBe("hello");
        expect((await bodyOf(client, raw.port, "/good")).toString()).toBe("good");
      }
      // /more's connection closed; /good's served /chunked-more, then closed; the last /good came on a third.
      expect(raw.connections()).toBe(3);
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("an answer head over 64 KiB is refused, arriving whole or in pieces", async () => {
    const big = `HTTP/1.1 200 OK\r\nx-pad: ${"a".repeat(70 * KiB)}\r\ncontent-length: 2\r\n\r\nok`;
    const raw = await rawServer({
      "/whole": big,
      "/pieces": (s) => {
        for (let at = 0; at < big.length; at += 1000) setTimeout(() => s.write(big.slice(at, at + 1000)), at / 1000);
      },
    });
    const client = new HttpGetClient({ timeoutMs: 2000, readBufferBytes: 256 * KiB });
    try {
      for (const path of ["/whole", "/pieces"]) await expect(bodyOf(client, raw.port, path)).rejects.toMatchObject({ code: "ERR_HTTP_ANSWER", message: /longer than 64 KiB/ });
    } finally {
      client.close();
      await raw.close();
    }
  });

  test("a header holding a line break is refused before any connection is opened (none is left behind)", async () => {
    const raw = await rawServer({ "/good": "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ngood" });
    const client = new HttpGetClient({ timeoutMs: 2000 });
    try {
      await expect(client.get(target(raw.port, "/good"), { host: "x", "if-match": '"e"\r\nx-evil: 1' })).rejects.toThrow(/the header if-match holds a line break/);
      await expect(client.get(target(raw.port, "/go od"), { host: "x" })).rejects.toThrow(/the path .* holds a space or a line break/);
      expect(raw.connections()).toBe(0);
    } finally {
      client.close();
      await raw.close();
    }
  });
});
