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
import { type AnswerSource, connectionError, GetResponse, parseHead } from "./http-answer";

export { GetResponse } from "./http-answer";

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

const HEAD_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** One connection: a socket, its read buffer, and the answer being read. */
class Connection implements AnswerSource {
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
    const head = parseHead(window.toString("latin1", 0, stop));
    if (!head) {
      this.protocolError("an answer that is not HTTP/1.x");
      return end;
    }
    // An interim answer (100 Continue): the real one follows.
    if (head.status >= 100 && head.status < 200) return bodyAt;
    const { status, headers, framing } = head;
    if (!head.keepAlive) this.reusable = false;
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

  /** Fails the answer being read with `err` at once (bytes held are dropped) and closes. */
  destroyWith(err: Error): void {
    this.broken(err);
    this.close();
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
      const abort = () => conn.destroyWith(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
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
