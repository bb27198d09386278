/**
 * One answer of http-get.ts's client: its status, headers and framing, and
 * its body handed to the one consumer reading it, into the consumer's
 * buffer or as views of the connection's. Parsing the bytes is the
 * connection's (http-get.ts); this is what a caller holds.
 */

/** The connection an answer is read from, as the answer sees it. */
export interface AnswerSource {
  /** A consumer asks for bytes: the held ones first, then the socket. */
  pump(): void;
  /** Closes the connection (the rest of the body is not wanted). */
  close(): void;
}

/** A failure of the connection, shaped like Node's (a `code` the retry policy knows). */
export function connectionError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export type Framing = { kind: "length"; left: number } | { kind: "chunked"; state: "size" | "data" | "data-end" | "trailer"; left: number; line: string } | { kind: "close" };
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
    private readonly conn: AnswerSource,
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly framing: Framing,
  ) {}

  /**
   * Copies the next body bytes into `buf[at, end)`, as many as come; resolves
   * with how many (0: the body ended, or the window is empty, which reads
   * nothing: a chunked body's closing chunk is read only with room left).
   */
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

/** What an answer head says: its status, headers, how its body is framed, and whether the connection may serve another request. */
export interface AnswerHead {
  status: number;
  headers: Record<string, string>;
  framing: Framing;
  keepAlive: boolean;
}

/** A header name (RFC 9110 5.1): white space before the colon, or a folded line, is refused rather than read one way of two. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * An answer head (status line and headers, without the blank line), or, for
 * one this client refuses, what is wrong with it (after "the source sent").
 * The refusals are the heads whose body's bytes could be read more than one
 * way (RFC 9112 6.3): a corrupt body would pass for the object's.
 */
export function parseHead(text: string): AnswerHead | string {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]);
  if (!m) return `an answer that is not HTTP/1.x (${JSON.stringify(lines[0].slice(0, 40))})`;
  const status = Number(m[2]);
  if (status === 101) return "101 Switching Protocols, which this client never asks for";
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon)) || /[\r\n\0]/.test(line)) return `a header line that is not "name: value" (${JSON.stringify(line.slice(0, 60))})`;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const tokens = (v: string | undefined) => (v ?? "").toLowerCase().split(",").map((t) => t.trim());
  const connection = tokens(headers.connection);
  let keepAlive = !connection.includes("close") && (m[1] === "1" || connection.includes("keep-alive"));
  const te = headers["transfer-encoding"];
  const cl = headers["content-length"];
  let framing: Framing;
  if ((status >= 100 && status < 200) || status === 204 || status === 304) framing = { kind: "length", left: 0 };
  else if (te !== undefined) {
    // Which one framed the body depends on who read it (request smuggling): RFC 9112 allows refusing.
    if (cl !== undefined) return `both a Content-Length and a Transfer-Encoding (Content-Length "${cl}", Transfer-Encoding "${te}")`;
    // Any other coding's bytes are not the object's, and would be hashed and stored as if they were.
    if (te.toLowerCase() !== "chunked") return `a Transfer-Encoding "${te}" other than chunked`;
    framing = { kind: "chunked", state: "size", left: 0, line: "" };
  } else if (cl !== undefined) {
    // The same length repeated (joined with ", " above) is that length (RFC 9110 8.6); differing ones are no length.
    const lengths = new Set(cl.split(",").map((v) => v.trim()));
    const [length] = lengths;
    if (lengths.size !== 1 || !/^\d{1,16}$/.test(length) || Number(length) > Number.MAX_SAFE_INTEGER) return `a Content-Length "${cl}" that is not one length`;
    framing = { kind: "length", left: Number(length) };
  } else {
    // A body that ends with the connection: the connection cannot serve another request.
    framing = { kind: "close" };
    keepAlive = false;
  }
  return { status, headers, framing, keepAlive };
}

/**
 * A chunk's size from its line (RFC 9112 7.1: hex digits, then optional
 * extensions, ignored), or undefined. Strict: parseInt would read "0x5" as
 * 0, the last chunk, and end the body there as if it were whole.
 */
export function chunkSize(line: string): number | undefined {
  const m = /^([0-9a-fA-F]{1,13})[ \t]*(;.*)?$/.exec(line);
  return m ? Number.parseInt(m[1], 16) : undefined;
}
