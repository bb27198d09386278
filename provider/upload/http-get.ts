/**
 * GETs over keep-alive HTTP/1.1 connections that read into one buffer per
 * connection (`onread`), for an object source's bodies.
 *
 * Why not undici or node:http: both hand every socket read over as a fresh
 * buffer, and a gigabyte of object bodies read that way made the process
 * spend most of its CPU in the garbage collector (the external memory
 * pressure triggers full collections): pulling 1 GiB from a loopback store
 * cost 1.1-1.7 s of CPU through them and 0.3 s this way. The body is copied
 * once, from the connection's buffer into the caller's (or handed over as a
 * view, valid during the call, to a caller that only hashes it).
 *
 * Only what reading objects needs: GET, Content-Length or chunked bodies (or
 * a body that ends with the connection), no redirects, no proxies (as the
 * AWS SDK's own handler). Callers bound the connections (the engine's
 * request slots); idle ones are kept per origin.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/** Where one GET goes. */
export interface GetTarget {
  protocol: string;
  hostname: string;
  port: number;
  /** Path and query, already encoded as they go on the wire. */
  path: string;
}

export interface HttpGetOptions {
  /** No byte for this long (connecting, waiting for the answer, or mid-body): the request fails. */
  timeoutMs: number;
  /** Bytes read from the socket at a time. Default 256 KiB. */
  readBufferBytes?: number;
  /** An idle connection is closed after this long. Default 4 s (below the usual servers' keep-alive). */
  idleMs?: number;
}

/** A failure of the connection, shaped like Node's (a `code` the retry policy knows). */
function connectionError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const HEAD_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

type Framing = { kind: "length"; left: number } | { kind: "chunked"; state: "size" | "data" | "data-end" | "trailer"; left: number; line: string } | { kind: "close" };
type Sink =
  | { kind: "into"; buf: Buffer; start: number; at: number; end: number; resolve: (n: number) => void; reject: (e: Error) => void }
  | { kind: "each"; each: (view: Buffer) => void; total: number; resolve: (n: number) => void; reject: (e: Error) => void };

/** One answer's status, headers (lower-case names) and body, read in order. */
export class GetResponse {
  /** The body was read to its end, or failed: the connection is back in the pool or closed. */
  ended = false;
  private failure: Error | undefined;
  /** The consumer waiting for body bytes, if any: while there is none, the connection does not read. */
  private sink: Sink | undefined;
  /** Called once when the body ended or failed. */
  private onEnded: (() => void) | undefined;

  constructor(
    private readonly conn: Connection,
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly framing: Framing,
  ) {}

  /** Copies the next body bytes into `buf[at, end)`, as many as come; resolves with how many (0: the body ended). */
  readInto(buf: Buffer, at = 0, end = buf.length): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || at >= end) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.sink = { kind: "into", buf, start: at, at, end, resolve, reject };
      this.conn.pump();
    });
  }

  /** Hands every remaining body byte to `each` (a view, valid only during the call); resolves with the count. */
  forEach(each: (view: Buffer) => void): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.sink = { kind: "each", each, total: 0, resolve, reject };
      this.conn.pump();
    });
  }

  /** The body as text (an error answer's), at most `limit` bytes kept. */
  async text(limit = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let kept = 0;
    await this.forEach((v) => {
      if (kept < limit) parts.push(Buffer.from(v.subarray(0, limit - kept)));
      kept += v.length;
    });
    return Buffer.concat(parts).toString("utf8");
  }

  /** Gives up on the rest of the body: the connection is closed (reading it out could take long). */
  destroy(): void {
    if (this.ended) return;
    this.fail(connectionError("the body was abandoned", "ECONNABORTED"));
    this.conn.close();
  }

  /** True while a consumer waits for bytes. */
  get wanting(): boolean {
    return this.sink !== undefined;
  }

  /** Body bytes off the wire (de-chunked); returns how many the consumer took. */
  deliver(view: Buffer): number {
    const sink = this.sink;
    if (!sink) return 0;
    if (sink.kind === "each") {
      sink.total += view.length;
      sink.each(view);
      return view.length;
    }
    const take = Math.min(view.length, sink.end - sink.at);
    view.copy(sink.buf, sink.at, 0, take);
    sink.at += take;
    if (sink.at === sink.end) this.settle();
    return take;
  }

  /** Resolves the consumer with what it got so far; the next bytes wait for the next call. */
  settle(): void {
    const sink = this.sink;
    this.sink = undefined;
    sink?.resolve(sink.kind === "each" ? sink.total : sink.at - sink.start);
  }

  /** Calls `fn` once the body ended or failed (at once if it has). */
  whenEnded(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnded = fn;
  }

  /** The body ended whole. */
  finish(): void {
    this.ended = true;
    this.onEnded?.();
    this.settle();
  }

  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnded?.();
    this.failure = err;
    const sink = this.sink;
    this.sink = undefined;
    // Bytes already copied count (a resumed read starts after them); the failure is the next call's.
    if (sink?.kind === "into" && sink.at > sink.start) sink.resolve(sink.at - sink.start);
    else sink?.reject(err);
  }
}

/** One connection: a socket, its read buffer, and the answer being read. */
class Connection {
  readonly socket: net.Socket;
  readonly buffer: Buffer;
  /** Read but not yet parsed (the consumer had no room): [start, end) of `buffer`. Reading waits until it is. */
  private held: { start: number; end: number } | undefined;
  /** The start of an answer head that did not fit in one read. */
  private head = EMPTY;
  /** Reading was paused by returning false from onread. */
  private paused = false;
  private response: GetResponse | undefined;
  private waiting: { resolve: (r: GetResponse) => void; reject: (e: Error) => void } | undefined;
  /** Any byte of the current answer arrived (a reused connection that fails before one may be retried). */
  answered = false;
  reusable = true;
  closed = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    target: GetTarget,
    bufferBytes: number,
    private readonly onIdle: (c: Connection) => void,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(bufferBytes);
    const onread = { buffer: this.buffer, callback: (n: number) => this.onData(n) };
    const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
    this.socket =
      target.protocol === "https:"
        ? // tls.connect takes net.connect's options, onread included (Node 20 and 24), though its types do not say so.
          tls.connect({ host, port: target.port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"], onread } as tls.ConnectionOptions)
        : net.connect({ host, port: target.port, onread });
    this.socket.setNoDelay(true);
    this.socket.on("error", (err) => this.broken(err));
    this.socket.on("end", () => this.ended());
    this.socket.on("close", () => this.broken(connectionError("the connection closed", "ECONNRESET")));
    this.socket.on("timeout", () => {
      const err = connectionError("no answer from the source within the timeout", "ETIMEDOUT");
      this.broken(err);
      this.socket.destroy(err);
    });
  }

  /** Sends one GET; resolves once the answer's head arrived. */
  request(target: GetTarget, headers: Record<string, string>, timeoutMs: number): Promise<GetResponse> {
    this.answered = false;
    this.response = undefined;
    this.head = EMPTY;
    let text = `GET ${target.path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`the header ${name} holds a line break`);
      text += `${name}: ${value}\r\n`;
    }
    this.socket.setTimeout(timeoutMs);
    this.socket.ref();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`${text}\r\n`, "latin1");
      this.pump();
    });
  }

  private onData(n: number): boolean {
    this.answered = true;
    const more = this.parse(0, n);
    this.paused = !more;
    return more;
  }

  /** Parses buffer[start, end); false (reading paused) when the consumer could not take it all. */
  private parse(start: number, end: number): boolean {
    let at = start;
    while (at < end && !this.closed) {
      const r = this.response;
      if (!r) {
        // Bytes nobody asked for: the server does not speak HTTP as this client reads it.
        if (!this.waiting) {
          this.close();
          return false;
        }
        at = this.readHead(at, end);
        continue;
      }
      if (!r.wanting) break;
      at = this.readBody(r, at, end);
    }
    if (at < end && !this.closed) {
      this.held = { start: at, end };
      return false;
    }
    this.held = undefined;
    return !this.closed;
  }

  /** Called when a consumer asks for bytes: the held ones first, then the socket again. */
  pump(): void {
    if (this.closed) return;
    const held = this.held;
    if (held) {
      this.held = undefined;
      if (!this.parse(held.start, held.end)) return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private readHead(at: number, end: number): number {
    // Usually the whole head is in one read: found there, nothing is copied.
    const prev = this.head;
    const window = prev.length === 0 ? this.buffer.subarray(at, end) : Buffer.concat([prev, this.buffer.subarray(at, Math.min(end, at + HEAD_LIMIT))]);
    const stop = window.indexOf("\r\n\r\n", Math.max(0, prev.length - 3));
    if (stop < 0) {
      this.head = Buffer.concat([prev, this.buffer.subarray(at, end)]);
      if (this.head.length > HEAD_LIMIT) this.protocolError("an answer head longer than 64 KiB");
      return end;
    }
    const bodyAt = at + stop + 4 - prev.length;
    this.head = EMPTY;
    const lines = window.toString("latin1", 0, stop).split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!m) {
      this.protocolError("an answer that is not HTTP/1.x");
      return end;
    }
    const status = Number(m[2]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    // An interim answer (100 Continue): the real one follows.
    if (status >= 100 && status < 200) return bodyAt;
    const connection = (headers.connection ?? "").toLowerCase();
    if (connection.includes("close") || (m[1] === "0" && !connection.includes("keep-alive"))) this.reusable = false;
    let framing: Framing;
    if (status === 204 || status === 304) framing = { kind: "length", left: 0 };
    else if (/(^|,)\s*chunked\s*$/i.test(headers["transfer-encoding"] ?? "")) framing = { kind: "chunked", state: "size", left: 0, line: "" };
    else if (headers["content-length"] !== undefined && /^\d+$/.test(headers["content-length"])) framing = { kind: "length", left: Number(headers["content-length"]) };
    else {
      framing = { kind: "close" };
      this.reusable = false;
    }
    const response = new GetResponse(this, status, headers, framing);
    this.response = response;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (framing.kind === "length" && framing.left === 0) this.done(response);
    waiting?.resolve(response);
    return bodyAt;
  }

  private readBody(r: GetResponse, at: number, end: number): number {
    const f = r.framing;
    if (f.kind === "close") return at + r.deliver(this.buffer.subarray(at, end));
    if (f.kind === "length") {
      const took = r.deliver(this.buffer.subarray(at, at + Math.min(f.left, end - at)));
      f.left -= took;
      if (f.left === 0) this.done(r);
      return at + took;
    }
    // Chunked: sizes and trailers are parsed here, the data goes through.
    if (f.state === "data") {
      const took = r.deliver(this.buffer.subarray(at, at + Math.min(f.left, end - at)));
      f.left -= took;
      if (f.left === 0) f.state = "data-end";
      return at + took;
    }
    const nl = this.buffer.indexOf(10, at);
    const stop = nl < 0 || nl >= end ? end : nl + 1;
    f.line += this.buffer.toString("latin1", at, stop);
    if (f.line.length > 4096) this.protocolError("a chunk line longer than 4 KiB");
    if (!f.line.endsWith("\n")) return stop;
    const line = f.line.replace(/\r?\n$/, "");
    f.line = "";
    if (f.state === "data-end") {
      if (line !== "") this.protocolError("a chunk longer than its size");
      f.state = "size";
    } else if (f.state === "size") {
      const size = /^[0-9a-fA-F]+/.exec(line);
      if (!size) this.protocolError("a chunk without a size");
      else if (Number.parseInt(size[0], 16) === 0) f.state = "trailer";
      else {
        f.left = Number.parseInt(size[0], 16);
        f.state = "data";
      }
    } else if (line === "") {
      this.done(r);
    }
    return stop;
  }

  private done(r: GetResponse): void {
    this.socket.setTimeout(0);
    r.finish();
    this.response = undefined;
    if (this.reusable && !this.closed) {
      this.socket.unref();
      this.onIdle(this);
    } else {
      this.close();
    }
  }

  /** The peer ended its side: a body framed by the connection is complete; anything else broke. */
  private ended(): void {
    // Reading pauses while bytes are held, so the end is seen only once every byte before it was taken.
    const r = this.response;
    this.reusable = false;
    if (r && r.framing.kind === "close" && !r.ended) this.done(r);
    else if (r || this.waiting) this.broken(connectionError("the source closed the connection mid-answer", "ECONNRESET"));
    this.close();
  }

  private protocolError(what: string): void {
    this.broken(connectionError(`the source sent ${what}`, "ERR_HTTP_ANSWER"));
    this.close();
  }

  /** Fails whoever waits on this connection with `err`. */
  private broken(err: Error): void {
    this.reusable = false;
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
    this.response?.fail(err);
  }

  close(): void {
    this.closed = true;
    this.reusable = false;
    clearTimeout(this.idleTimer);
    this.socket.destroy();
  }
}

/** A pool of keep-alive connections per origin; `close` it. */
export class HttpGetClient {
  private readonly idle = new Map<string, Connection[]>();

  constructor(private readonly options: HttpGetOptions) {}

  /**
   * Sends a GET; resolves with the answer's head once it arrives (the body is
   * read through the answer). A reused connection that fails before any byte
   * of the answer (the server had closed it) is replaced once, at no cost to
   * the retry budget: the request cannot have been acted on.
   */
  async get(target: GetTarget, headers: Record<string, string>, signal?: AbortSignal): Promise<GetResponse> {
    signal?.throwIfAborted();
    const key = `${target.protocol}//${target.hostname}:${target.port}`;
    for (;;) {
      const reused = this.take(key);
      const conn = reused ?? new Connection(key, target, this.options.readBufferBytes ?? 256 * 1024, (c) => this.release(c));
      const abort = () => conn.socket.destroy(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const response = await conn.request(target, headers, this.options.timeoutMs);
        // The stop reaches a body being read too.
        response.whenEnded(() => signal?.removeEventListener("abort", abort));
        return response;
      } catch (err) {
        signal?.removeEventListener("abort", abort);
        if (reused && !conn.answered && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  private take(key: string): Connection | undefined {
    const list = this.idle.get(key);
    while (list?.length) {
      const c = list.pop()!;
      clearTimeout(c.idleTimer);
      if (!c.closed) return c;
    }
    return undefined;
  }

  private release(c: Connection): void {
    let list = this.idle.get(c.key);
    if (!list) this.idle.set(c.key, (list = []));
    list.push(c);
    c.idleTimer = setTimeout(() => c.close(), this.options.idleMs ?? 4000);
    c.idleTimer.unref();
  }

  close(): void {
    for (const list of this.idle.values()) for (const c of list) c.close();
    this.idle.clear();
  }
}
