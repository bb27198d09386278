/**
 * The four REST calls of the stage API, with the envelopes of the public
 * docs, answering from the Store.
 */
import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { applyRequestSchema, createStageRequestSchema, stageNameSchema } from "../client/schemas";
import type { RequestKind } from "./faults";
import type { Store } from "./store";

/** API codes the emulator answers with; exported so tests can name them. */
export const EMULATOR_ERROR_CODES = {
  invalidApiKey: { status: 401, code: 80001 },
  malformed: { status: 400, code: 1100 },
  invalidStageName: { status: 400, code: 1101 },
  stageNotFound: { status: 404, code: 1301 },
  stageExists: { status: 409, code: 1302 },
} as const;

export interface Reply {
  status: number;
  body: unknown;
}

export interface ControlPlaneSettings {
  apiKey: string;
  /** Base URL of the object endpoint put into apply answers. */
  s3Endpoint: string;
  bucketName: string;
  region: string;
  credentialTtlSeconds: number;
  maxContentLength: number;
}

function fail(which: keyof typeof EMULATOR_ERROR_CODES, message: string): Reply {
  const { status, code } = EMULATOR_ERROR_CODES[which];
  return { status, body: { code, message } };
}

export function isAuthorized(req: IncomingMessage, apiKey: string): boolean {
  const header = req.headers.authorization ?? "";
  const given = Buffer.from(header.replace(/^Bearer\s+/i, ""));
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Which REST call a request is, or undefined when it is none of them. */
export function restKind(method: string, pathname: string): RequestKind | undefined {
  if (method === "POST" && pathname === "/v2/stages/create") return "create";
  if (method === "POST" && pathname === "/v2/stages/apply") return "apply";
  if (method === "GET" && pathname === "/v2/stages") return "list";
  if (method === "DELETE" && /^\/v2\/stages\/[^/]+$/.test(pathname)) return "delete";
  return undefined;
}

function parseBody<T>(schema: z.ZodType<T>, raw: string): { ok: true; value: T } | { ok: false; reply: Reply } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reply: fail("malformed", "Invalid request: the body is not valid JSON") };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".") || "body";
  if (field === "stageName" && issue.code !== "invalid_type") {
    return { ok: false, reply: fail("invalidStageName", `Invalid stageName: ${issue.message}`) };
  }
  return { ok: false, reply: fail("malformed", `Invalid request: ${field} ${issue.code === "invalid_type" ? "is required and must be a " + issue.expected : issue.message}`) };
}

export async function handleRest(
  kind: RequestKind,
  url: URL,
  rawBody: string,
  store: Store,
  settings: ControlPlaneSettings,
): Promise<Reply> {
  switch (kind) {
    case "create": {
      const parsed = parseBody(createStageRequestSchema, rawBody);
      if (!parsed.ok) return parsed.reply;
      const { projectId, regionId, stageName } = parsed.value;
      if (store.stage(stageName)) return fail("stageExists", `stage ${stageName} already exists`);
      await store.addStage({ projectId, regionId, stageName, prefix: `stages/${projectId}/${stageName}/`, createdAt: Date.now() });
      return { status: 200, body: { code: 0, data: { stageName } } };
    }
    case "list": {
      const projectId = url.searchParams.get("projectId");
      if (!projectId) return fail("malformed", "Invalid request: projectId is required");
      const page = intParam(url, "currentPage", 1);
      const size = intParam(url, "pageSize", 10);
      if (page === undefined || page < 1) return fail("malformed", "Invalid request: currentPage must be a positive integer");
      if (size === undefined || size < 1 || size > 100) return fail("malformed", "Invalid request: pageSize must be between 1 and 100");
      const all = store.stagesOf(projectId);
      const stages = all.slice((page - 1) * size, page * size).map((s) => ({ stageName: s.stageName }));
      return { status: 200, body: { code: 200, data: { count: all.length, currentPage: page, pageSize: size, stages } } };
    }
    case "delete": {
      const name = decodeURIComponent(url.pathname.slice("/v2/stages/".length));
      if (!stageNameSchema.safeParse(name).success) return fail("invalidStageName", `Invalid stageName: ${JSON.stringify(name)}`);
      if (!store.stage(name)) return fail("stageNotFound", `stage ${name} does not exist`);
      await store.removeStage(name);
      return { status: 200, body: { code: 0, data: { stageName: name } } };
    }
    case "apply": {
      const parsed = parseBody(applyRequestSchema, rawBody);
      if (!parsed.ok) return parsed.reply;
      const { stageName, path } = parsed.value;
      if (path !== "" && (!path.endsWith("/") || path.startsWith("/") || path.split("/").includes(".."))) {
        return fail("malformed", 'Invalid request: path must be "" or a relative directory ending in "/", without ".."');
      }
      const stage = store.stage(stageName);
      if (!stage) return fail("stageNotFound", `stage ${stageName} does not exist`);
      const cred = await store.issueCredential(stage, settings.credentialTtlSeconds);
      return {
        status: 200,
        body: {
          code: 0,
          data: {
            stageName,
            stagePrefix: stage.prefix,
            endpoint: settings.s3Endpoint,
            bucketName: settings.bucketName,
            region: settings.region,
            cloud: "aws",
            condition: { maxContentLength: settings.maxContentLength },
            credentials: {
              tmpAK: cred.accessKeyId,
              tmpSK: cred.secretAccessKey,
              sessionToken: cred.sessionToken,
              expireTime: new Date(cred.expireTime).toISOString(),
            },
          },
        },
      };
    }
    default:
      return fail("malformed", "Invalid request: unknown call");
  }
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}
