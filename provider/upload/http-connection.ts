/**
 * One keep-alive HTTP/1.1 connection of http-get.ts's client: a socket read
 * into one buffer (`onread`), and the answer being parsed from it (status
 * line and headers, then the body, framed by its Content-Length, chunked,
 * or by the connection's end). The pool of connections is http-get.ts's.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { type AnswerSource, chunkSize, connectionError, GetResponse, parseHead } from "./http-answer";

/** Where one GET goes. */
export interface GetTarget {
  protocol: string;
  hostname: string;
  port: number;
  /** Path and query, already encoded as they go on the wire. */
  path: string;
}

const HEAD_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class Connection implements AnswerSource {
  readonly socket: net.Socket;
  private readonly buffer: Buffer;
  /**
   * Bytes read but not parsed yet (the consumer had no room) are copied here
   * before reading pauses, never left in `buffer`: a TLS socket calls onread
   * again after it returned false (with the records it had already
   * decrypted), into that same buffer. Reused while the connection lives.
   */
  private spill = EMPTY;
  /** Held bytes: [start, end) of `spill`. Reading waits until they are taken. */
  private held: { start: number; end: number } | undefined;
  /** The peer ended while bytes were held (TLS says so early): handled once they are taken. */
  private eof = false;
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
    // Certificates are checked (rejectUnauthorized's default) against the name, or an IP host against the IP SANs.
    this.socket =
      target.protocol === "https:"
        ? // tls.connect takes net.connect's options, onread included (Node 20 and 24), though its types do not say so.
          tls.connect({ host, port: target.port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"], onread } as tls.ConnectionOptions)
        : net.connect({ host, port: target.port, onread });
    this.socket.setNoDelay(true);
    this.socket.on("error", (err) => this.broken(err));
    this.socket.on("end", () => this.ended());
    // After an early end the held bytes are still the answer's: the close waits for them too.
    this.socket.on("close", () => (this.eof && this.held ? undefined : this.broken(connectionError("the connection closed", "ECONNRESET"))));
    this.socket.on("timeout", () => {
      const err = connectionError("no answer from the source within the timeout", "ETIMEDOUT");
      this.broken(err);
      this.socket.destroy(err);
    });
  }

  /** Sends one GET (its head, already checked); resolves once the answer's head arrived. */
  request(head: string, timeoutMs: number): Promise<GetResponse> {
    this.answered = false;
    this.response = undefined;
    this.head = EMPTY;
    this.socket.setTimeout(timeoutMs);
    this.socket.ref();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(head, "latin1");
      this.pump();
    });
  }

  private onData(n: number): boolean {
    this.answered = true;
    // Called again while paused (TLS): after the held bytes, in order.
    if (this.held) this.keep(this.buffer, 0, n);
    else this.parse(this.buffer, 0, n);
    return !this.held && !this.closed;
  }

  /** Parses src[start, end); what the consumer has no room for is kept in `spill` and reading pauses. */
  private parse(src: Buffer, start: number, end: number): void {
    this.held = undefined;
    let at = start;
    while (at < end && !this.closed) {
      const r = this.response;
      if (!r) {
        // Bytes nobody asked for (past an answer's end, or unasked): never to be read as the next answer.
        if (!this.waiting) {
          this.close();
          return;
        }
        at = this.readHead(src, at, end);
        continue;
      }
      if (!r.wanting) break;
      at = this.readBody(src, r, at, end);
    }
    if (at >= end || this.closed) return;
    this.paused = true;
    if (src === this.spill) this.held = { start: at, end };
    else this.keep(src, at, end);
  }

  /** Appends src[start, end) to the held bytes. A copy of at most a read or two per pause, not per read. */
  private keep(src: Buffer, start: number, end: number): void {
    const h = this.held ?? { start: 0, end: 0 };
    const size = h.end - h.start + end - start;
    const into = this.spill.length >= size ? this.spill : Buffer.allocUnsafeSlow(Math.max(size, this.buffer.length + 64 * 1024));
    this.spill.copy(into, 0, h.start, h.end);
    src.copy(into, h.end - h.start, start, end);
    this.spill = into;
    this.held = { start: 0, end: size };
  }

  /** Called when a consumer asks for bytes: the held ones first, then the socket again. */
  pump(): void {
    if (this.closed) return;
    if (this.held) this.parse(this.spill, this.held.start, this.held.end);
    if (this.held || this.closed) return;
    if (this.eof) return this.ended();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private readHead(src: Buffer, at: number, end: number): number {
    // Usually the whole head is in one read: found there, nothing is copied.
    const prev = this.head;
    const window = prev.length === 0 ? src.subarray(at, end) : Buffer.concat([prev, src.subarray(at, Math.min(end, at + HEAD_LIMIT))]);
    const stop = window.indexOf("\r\n\r\n", Math.max(0, prev.length - 3));
    if (stop < 0 || stop > HEAD_LIMIT) {
      this.head = Buffer.concat([prev, src.subarray(at, end)]);
      if (this.head.length > HEAD_LIMIT) this.protocolError("an answer head longer than 64 KiB");
      return end;
    }
    const bodyAt = at + stop + 4 - prev.length;
    this.head = EMPTY;
    const head = parseHead(window.toString("latin1", 0, stop));
    if (typeof head === "string") {
      this.protocolError(head);
      return end;
    }
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    if (head.status < 200) return bodyAt;
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

  private readBody(src: Buffer, r: GetResponse, at: number, end: number): number {
    const f = r.framing;
    if (f.kind === "close") return at + r.deliver(src.subarray(at, end));
    if (f.kind === "length") {
      const took = r.deliver(src.subarray(at, at + Math.min(f.left, end - at)));
      f.left -= took;
      if (f.left === 0) this.done(r);
      return at + took;
    }
    // Chunked: sizes and trailers are parsed here, the data goes through.
    if (f.state === "data") {
      const took = r.deliver(src.subarray(at, at + Math.min(f.left, end - at)));
      f.left -= took;
      if (f.left === 0) f.state = "data-end";
      return at + took;
    }
    const nl = src.subarray(at, end).indexOf(10);
    const stop = nl < 0 ? end : at + nl + 1;
    f.line += src.toString("latin1", at, stop);
    if (f.line.length > 4096) this.protocolError("a chunk line longer than 4 KiB");
    if (!f.line.endsWith("\n")) return stop;
    const line = f.line.replace(/\r?\n$/, "");
    f.line = "";
    if (f.state === "data-end") {
      if (line !== "") this.protocolError("a chunk longer than its size");
      f.state = "size";
    } else if (f.state === "size") {
      const size = chunkSize(line);
      if (size === undefined) this.protocolError(`a chunk size ${JSON.stringify(line.slice(0, 40))} that is not a hex number below 2^52`);
      else if (size === 0) f.state = "trailer";
      else {
        f.left = size;
        f.state = "data";
      }
    } else if (line === "") {
      this.done(r);
    } else if ((f.left += line.length) > HEAD_LIMIT) {
      // Trailers are skipped; `left` counts their bytes.
      this.protocolError("trailers longer than 64 KiB");
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
    this.eof = true;
    this.reusable = false;
    // Held bytes come before the end (TLS tells of it while reading is paused).
    if (this.held) return;
    const r = this.response;
    if (r && r.framing.kind === "close" && !r.ended) this.done(r);
    else if (r || this.waiting) this.broken(connectionError("the source closed the connection mid-answer", "ECONNRESET"));
    this.close();
  }

  /** A refused answer: ERR_HTTP_ANSWER, which the retry policy does not retry (the same store would send it again). */
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
