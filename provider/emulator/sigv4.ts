/**
 * Verifies AWS Signature Version 4 on incoming S3 requests by signing the
 * same canonical request again with the stored secret, using AWS's own
 * maintained implementation (@smithy/signature-v4), and comparing.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../sha256";

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = header ? AUTH_PATTERN.exec(header.trim()) : null;
  if (!m) return undefined;
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4], signedHeaders: m[5].split(";"), signature: m[6] };
}

/** Most skew S3 allows between the request's date and its own clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** What S3 quotes back in a SignatureDoesNotMatch body, so a client can see what the server signed. */
export interface SignatureCheck {
  matches: boolean;
  canonicalRequest: string;
  stringToSign: string;
}

/** The canonical request and string to sign of @smithy/signature-v4 (protected there; the same code that signs). */
interface SignerInternals {
  createCanonicalRequest(request: unknown, canonicalHeaders: Record<string, string>, payloadHash: string): string;
  createStringToSign(longDate: string, credentialScope: string, canonicalRequest: string, algorithmIdentifier: string): Promise<string>;
}

/** Whether `auth.signature` is what the secret produces for this request, with what was signed. */
export async function checkSignature(
  req: IncomingMessage,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  sessionToken: string | undefined,
): Promise<SignatureCheck> {
  const amzDate = req.headers["x-amz-date"] as string;
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return { matches: false, canonicalRequest: "", stringToSign: "" };
  const rawUrl = req.url ?? "/";
  const q = rawUrl.indexOf("?");
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : "")) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return { matches: false, canonicalRequest: "", stringToSign: "" };
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    // The signer adds the token header itself; only when the client signed it too.
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey,
      sessionToken: auth.signedHeaders.includes("x-amz-security-token") ? sessionToken : undefined,
    },
    sha256: NodeSha256,
    // S3 signs the path exactly as sent.
    uriEscapePath: false,
    applyChecksum: false,
  });
  const request = { method: req.method ?? "GET", protocol: "http:", hostname: "", path: q >= 0 ? rawUrl.slice(0, q) : rawUrl, query, headers };
  const signed = await signer.sign(request, { signingDate, signableHeaders: new Set(auth.signedHeaders) });
  const got = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? "";
  const matches = got.length === auth.signature.length && timingSafeEqual(Buffer.from(got), Buffer.from(auth.signature));
  if (matches) return { matches, canonicalRequest: "", stringToSign: "" };
  const internals = signer as unknown as SignerInternals;
  const canonicalHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) canonicalHeaders[k.toLowerCase()] = v.trim().replace(/\s+/g, " ");
  if (sessionToken && auth.signedHeaders.includes("x-amz-security-token")) canonicalHeaders["x-amz-security-token"] = sessionToken;
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD");
  const canonicalRequest = internals.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = await internals.createStringToSign(amzDate, scope, canonicalRequest, "AWS4-HMAC-SHA256");
  return { matches, canonicalRequest, stringToSign };
}
