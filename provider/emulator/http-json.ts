/** The JSON plumbing the emulator's REST and admin routes share. */
import type { IncomingMessage, ServerResponse } from "node:http";

export function sendJson(res: ServerResponse, status: number, body: unknown, retryAfterSeconds?: number): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  if (retryAfterSeconds !== undefined) res.setHeader("retry-after", String(retryAfterSeconds));
  res.end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
