/**
 * The REST control plane: the stage calls and the volume calls, answered
 * from one Store. A stage is a managed volume, so the two APIs are two
 * dialects (field names, what a list shows) over one implementation.
 *
 * Errors come back as the service sends them, HTTP 200 with a non-zero
 * `code` and a `message`, or, with `errors: "http"`, with the HTTP status of
 * {@link API_ERROR_HTTP_STATUS} (the emulator's older style).
 */
import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import {
  API_ERROR_CODES,
  API_ERROR_HTTP_STATUS,
  API_SUCCESS_CODE,
  API_SUCCESS_MESSAGE,
  ApiErrorKind,
} from "../client/api-codes";
import { stageNameSchema } from "../client/schemas";
import type { RequestKind } from "./faults";
import type { Cloud, Store, VolumeRecord } from "./store";
import { isUnusableVolumeStatus, updateVolumeRequestSchema, volumeTypeSchema } from "../client/volume-schemas";
import { checkVolumeSettings, dialects, Dialect, volumeView } from "./volumes";

/** How errors are answered: "code" = HTTP 200 + non-zero `code` (the service); "http" = 4xx statuses. */
export type ErrorStyle = "code" | "http";

export interface Reply {
  status: number;
  body: unknown;
}

export interface ControlPlaneSettings {
  apiKey: string;
  /** The object endpoint put into apply answers: `host:port` under TLS (as the service), else `http://host:port`. */
  objectEndpoint: string;
  bucketName: string;
  region: string;
  credentialTtlSeconds: number;
  maxContentLength: number;
  maxFileNumber: number;
  errors: ErrorStyle;
}

/** An error answer in the configured style. */
export function fail(errors: ErrorStyle, kind: ApiErrorKind, message: string): Reply {
  return { status: errors === "http" ? API_ERROR_HTTP_STATUS[kind] : 200, body: { code: API_ERROR_CODES[kind], message } };
}

function ok(data: unknown): Reply {
  return { status: 200, body: { code: API_SUCCESS_CODE, message: API_SUCCESS_MESSAGE, data } };
}

export function isAuthorized(req: IncomingMessage, apiKey: string): boolean {
  // The service takes the key only as a Bearer token: a bare key is refused,
  // so a client that forgets the scheme fails here as it would there.
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  if (!bearer) return false;
  const given = Buffer.from(bearer[1]);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One REST call: which kind it is (for faults and the request log) and in which dialect. */
export interface RestRoute {
  kind: RequestKind;
  dialect: Dialect;
  /** The name in the path, for delete, describe and update; undefined when its %-escapes do not decode. */
  name?: string;
}

function decodedName(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Which REST call a request is, or undefined when it is none of them. */
export function restRoute(method: string, pathname: string): RestRoute | undefined {
  for (const dialect of Object.values(dialects)) {
    const base = dialect.basePath;
    if (method === "POST" && pathname === `${base}/create`) return { kind: "create", dialect };
    if (method === "POST" && pathname === `${base}/apply`) return { kind: "apply", dialect };
    if (method === "GET" && pathname === base) return { kind: "list", dialect };
    const m = new RegExp(`^${base}/([^/]+)$`).exec(pathname);
    if (m && method === "DELETE") return { kind: "delete", dialect, name: decodedName(m[1]) };
    if (m && method === "GET" && dialect.describes) return { kind: "describe", dialect, name: decodedName(m[1]) };
    if (m && method === "PATCH" && dialect.describes) return { kind: "update", dialect, name: decodedName(m[1]) };
  }
  return undefined;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reply: Reply };

function parseBody<T>(schema: z.ZodType<T>, raw: string, nameField: string, errors: ErrorStyle): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reply: fail(errors, "malformedRequest", "Invalid request: the body is not valid JSON") };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path.join(".") || "body";
  if ((field === nameField || field === "projectId") && issue.code !== "invalid_type") {
    return { ok: false, reply: fail(errors, "invalidName", `Invalid ${field}: ${issue.message}`) };
  }
  const why = issue.code === "invalid_type" ? "is required and must be a " + issue.expected : issue.message;
  return { ok: false, reply: fail(errors, "malformedRequest", `Invalid request: ${field} ${why}`) };
}

const applyBodySchemas = {
  stageName: z.object({ stageName: stageNameSchema, path: z.string() }),
  volumeName: z.object({ volumeName: stageNameSchema, path: z.string() }),
};

export async function handleRest(route: RestRoute, url: URL, rawBody: string, store: Store, settings: ControlPlaneSettings): Promise<Reply> {
  const { dialect } = route;
  const { errors } = settings;
  const notFound = (name: string) => fail(errors, "notFound", `${dialect.noun} ${name} does not exist`);
  /** The record the dialect can see: the stage API sees managed volumes only. */
  const visible = (name: string) => {
    const v = store.volume(name);
    return v && dialect.sees(v) ? v : undefined;
  };

  if (route.kind !== "create" && route.kind !== "list" && route.kind !== "apply" && route.name === undefined) {
    return fail(errors, "malformedRequest", `Invalid request: the ${dialect.nameField} in the path has a malformed %-escape; encode it with encodeURIComponent`);
  }
  switch (route.kind) {
    case "create": {
      const parsed = parseBody(dialect.createSchema, rawBody, dialect.nameField, errors);
      if (!parsed.ok) return parsed.reply;
      const request = dialect.toVolumeRequest(parsed.value);
      const checked = checkVolumeSettings(request);
      if ("refused" in checked) return fail(errors, "malformedRequest", checked.refused);
      const { type } = checked;
      const { volumeName, projectId, regionId } = request;
      // One namespace: a stage and a volume cannot share a name.
      const taken = store.volume(volumeName);
      if (taken) return fail(errors, "alreadyExists", `${dialect.sees(taken) ? dialect.noun : "volume"} ${volumeName} already exists`);
      await store.addVolume({
        projectId,
        regionId,
        volumeName,
        type,
        ...(request.storageIntegrationId ? { storageIntegrationId: request.storageIntegrationId } : {}),
        ...(request.path ? { path: request.path } : {}),
        ...(request.description ? { description: request.description } : {}),
        // Injective: projectId and the name follow the name rule (no "/"),
        // so one volume's prefix never starts with another's.
        prefix: type === "MANAGED" ? `${dialect.keyRoot}/${projectId}/${volumeName}/` : "",
        createdAt: Date.now(),
      });
      return ok({ [dialect.nameField]: volumeName });
    }
    case "list": {
      const projectId = url.searchParams.get("projectId");
      if (!projectId) return fail(errors, "malformedRequest", "Invalid request: projectId is required");
      const page = intParam(url, "currentPage", 1);
      const size = intParam(url, "pageSize", 10);
      if (page === undefined || page < 1) return fail(errors, "malformedRequest", "Invalid request: currentPage must be a positive integer");
      if (size === undefined || size < 1 || size > 100) return fail(errors, "malformedRequest", "Invalid request: pageSize must be between 1 and 100");
      const type = url.searchParams.get("type") || undefined;
      if (type !== undefined && !dialect.filtersByType) return fail(errors, "malformedRequest", "Invalid request: stages have no type filter");
      const typeCheck = type === undefined ? undefined : volumeTypeSchema.safeParse(type);
      if (typeCheck && !typeCheck.success) return fail(errors, "malformedRequest", `Invalid request: type must be MANAGED or EXTERNAL, got ${JSON.stringify(type)}`);
      const all = store.volumesOf(projectId, typeCheck?.data).filter(dialect.sees);
      const items = all.slice((page - 1) * size, page * size).map(dialect.listItem);
      return ok({ count: all.length, currentPage: page, pageSize: size, [dialect.listField]: items });
    }
    case "describe": {
      const name = route.name!;
      const volume = visible(name);
      return volume ? ok(volumeView(volume)) : notFound(name);
    }
    case "update": {
      const name = route.name!;
      const parsed = parseBody(updateVolumeRequestSchema, rawBody, "", errors);
      if (!parsed.ok) return parsed.reply;
      if (!visible(name)) return notFound(name);
      const updated = await store.updateVolume(name, { description: parsed.value.description || undefined });
      return ok(volumeView(updated!));
    }
    case "delete": {
      const name = route.name!;
      if (!stageNameSchema.safeParse(name).success) return fail(errors, "invalidName", `Invalid ${dialect.nameField}: ${JSON.stringify(name)}`);
      if (!visible(name)) return notFound(name);
      await store.removeVolume(name);
      return ok({ [dialect.nameField]: name });
    }
    case "apply": {
      const parsed = parseBody<{ path: string } & Record<string, string>>(applyBodySchemas[dialect.nameField], rawBody, dialect.nameField, errors);
      if (!parsed.ok) return parsed.reply;
      const name = parsed.value[dialect.nameField];
      const path = normalizeApplyPath(parsed.value.path);
      if (path === undefined) {
        return fail(errors, "malformedRequest", 'Invalid request: path must be "" or a directory ending in "/", with no ".." segment');
      }
      const volume = visible(name);
      if (!volume) return notFound(name);
      if (isUnusableVolumeStatus(volume.status)) {
        return fail(errors, "volumeUnusable", `${dialect.noun} ${name} is ${volume.status}: the organization takes no new operations until it is unfrozen`);
      }
      if (volume.type !== "MANAGED") {
        return fail(
          errors,
          "notManaged",
          `volume ${name} is EXTERNAL: its files live in your own bucket${volume.path ? ` under ${volume.path}` : ""}; ` +
            "upload them there with your own credentials (apply is for MANAGED volumes)",
        );
      }
      return ok(await applyAnswer(dialect, volume, path, store, settings));
    }
    default:
      return fail(errors, "malformedRequest", "Invalid request: unknown call");
  }
}

/** Volumes in Google Cloud regions answer `cloud: "gcp"`, and their object endpoint then wants Bearer tokens. */
function cloudOf(regionId: string): Cloud {
  return regionId.startsWith("gcp-") ? "gcp" : "aws";
}

async function applyAnswer(dialect: Dialect, volume: VolumeRecord, path: string, store: Store, settings: ControlPlaneSettings) {
  const cloud = cloudOf(volume.regionId);
  const cred = await store.issueCredential(volume, settings.credentialTtlSeconds, cloud);
  return {
    [dialect.nameField]: volume.volumeName,
    // Both names of the prefix: older and newer SDKs each read one of them.
    stagePrefix: volume.prefix,
    volumePrefix: volume.prefix,
    uploadPath: volume.prefix + path,
    endpoint: settings.objectEndpoint,
    bucketName: settings.bucketName,
    region: cloud === "gcp" ? volume.regionId.slice("gcp-".length) : settings.region,
    cloud,
    // Files per batch is a volume rule (the SDKs read it only from volume
    // answers); the stage API never sent it.
    condition:
      dialect.nameField === "volumeName"
        ? { maxContentLength: settings.maxContentLength, maxFileNumber: settings.maxFileNumber }
        : { maxContentLength: settings.maxContentLength },
    credentials: {
      tmpAK: cred.accessKeyId,
      tmpSK: cred.secretAccessKey,
      sessionToken: cred.sessionToken,
      expireTime: new Date(cred.expireTime).toISOString(),
    },
  };
}

/**
 * The path of an apply as the newest SDKs normalise it: any ".." segment is
 * refused (not only a leading one), empty and "." segments are dropped, the
 * result ends in "/". A path that does not end in "/" is refused, not
 * completed: the SDKs always send one, and refusing is the stricter reading.
 */
export function normalizeApplyPath(path: string): string | undefined {
  if (path === "") return "";
  if (!path.endsWith("/")) return undefined;
  const segments = path.split("/");
  if (segments.includes("..")) return undefined;
  const kept = segments.filter((s) => s !== "" && s !== ".");
  return kept.length === 0 ? "" : kept.join("/") + "/";
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}
