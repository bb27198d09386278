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
 * request slots); idle ones are kept per origin. One connection and the
 * parsing of its answers are http-connection.ts's; this is the pool.
 */
import { Connection, type GetTarget } from "./http-connection";
import type { GetResponse } from "./http-answer";

export { GetResponse } from "./http-answer";
export type { GetTarget } from "./http-connection";

export interface HttpGetOptions {
  /** No byte for this long (connecting, waiting for the answer, or mid-body): the request fails. */
  timeoutMs: number;
  /** Bytes read from the socket at a time. Default 256 KiB. */
  readBufferBytes?: number;
  /** An idle connection is closed after this long. Default 4 s (below the usual servers' keep-alive). */
  idleMs?: number;
}

/** The request's head, checked before any connection is taken: a line break in it would be a second request. */
function requestHead(target: GetTarget, headers: Record<string, string>): string {
  if (/[\s]/.test(target.path)) throw new Error(`the path ${JSON.stringify(target.path)} holds a space or a line break`);
  let text = `GET ${target.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`the header ${name} holds a line break`);
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
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
    const head = requestHead(target, headers);
    const key = `${target.protocol}//${target.hostname}:${target.port}`;
    for (;;) {
      const reused = this.take(key);
      const conn = reused ?? new Connection(key, target, this.options.readBufferBytes ?? 256 * 1024, (c) => this.release(c));
      const abort = () => conn.destroyWith(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }));
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const response = await conn.request(head, this.options.timeoutMs);
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
