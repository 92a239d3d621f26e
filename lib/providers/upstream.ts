/**
 * The HTTP plumbing every real adapter shares: one fetch that turns network faults and
 * non-2xx answers into ProviderError, Retry-After parsing, and keeping keys out of messages.
 */
import { Buffer } from "node:buffer";
import { isDeepStrictEqual } from "node:util";
import {
  type EndpointFields,
  type ProviderDeps,
  ProviderError,
  type VideoRequest,
} from "./types.ts";

/** Deps may carry a clock (tests pin it); the adapters read it only for Retry-After dates. */
export type ClockedDeps = ProviderDeps & { now?: () => number };

const MAX_MESSAGE = 500;

/** Retry-After as milliseconds: delta-seconds or an HTTP-date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** 429, 408 and 5xx may succeed later; everything else is the request's own fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Pulls the human message out of the error shapes the providers use. */
export function upstreamMessage(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() || undefined;
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  // Google: {error:{code,message,status}}; Runway: {error:"..."}; fal/Luma: {detail}; Replicate: {title,detail}.
  if (b.error && typeof b.error === "object") return upstreamMessage(b.error);
  if (typeof b.error === "string") {
    // Runway adds zod-style issues to its validation errors: they say which field is wrong.
    const issues = Array.isArray(b.issues)
      ? b.issues.map((i) => {
        const e = (i ?? {}) as { message?: unknown; path?: unknown };
        const where = Array.isArray(e.path) ? e.path.join(".") : "";
        return where ? `${where}: ${e.message}` : String(e.message ?? "");
      }).filter(Boolean)
      : [];
    return issues.length ? `${b.error} (${issues.join("; ")})` : b.error;
  }
  if (Array.isArray(b.detail)) {
    const parts = b.detail.map((d) => {
      if (d && typeof d === "object") {
        const e = d as Record<string, unknown>;
        const where = Array.isArray(e.loc) ? e.loc.filter((l) => l !== "body").join(".") : "";
        return where ? `${where}: ${e.msg}` : String(e.msg ?? "");
      }
      return String(d);
    });
    return parts.filter(Boolean).join("; ") || undefined;
  }
  if (typeof b.detail === "string") return b.detail;
  if (typeof b.message === "string") return b.message;
  if (typeof b.title === "string") return b.title;
  return undefined;
}

/** Removes every given secret from a message and caps its length. */
export function redact(message: string, secrets: (string | undefined)[]): string {
  let out = message;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

export interface UpstreamCall {
  /** Provider name for messages ("Runway"). */
  provider: string;
  /** What we were doing, for messages ("submitting the job"). */
  action: string;
  /** The secret sent with the call, removed from any message. */
  secret?: string;
}

/**
 * fetch that never returns a non-2xx response: a network fault is a retryable ProviderError,
 * an HTTP error is a ProviderError carrying the provider's own message and Retry-After.
 */
export async function upstreamFetch(
  deps: ClockedDeps,
  call: UpstreamCall,
  url: string,
  init: RequestInit,
): Promise<Response> {
  let res: Response;
  try {
    res = await deps.fetch(url, init);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ProviderError(
      redact(`${call.provider} could not be reached while ${call.action}: ${why}`, [call.secret]),
      true,
    );
  }
  if (res.ok) return res;
  throw await errorFromResponse(res, call, deps.now?.() ?? Date.now());
}

/** Builds the ProviderError for a non-2xx answer (consumes the body). */
export async function errorFromResponse(
  res: Response,
  call: UpstreamCall,
  now: number,
): Promise<ProviderError> {
  const text = await res.text().catch(() => "");
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text as the message.
  }
  const said = upstreamMessage(body) ?? (res.statusText || "no details");
  const message = redact(
    `${call.provider} answered ${res.status} while ${call.action}: ${said}`,
    [call.secret],
  );
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now);
  // fal's (and its hosted models') refusal on content grounds says so in the error's type.
  const code = text.includes("content_policy_violation") ? "content_moderated" : undefined;
  return new ProviderError(message, isRetryableStatus(res.status), res.status, retryAfterMs, code);
}

/** Reads a JSON body, turning garbage into a retryable error (a proxy page, a cut stream). */
export async function readJson<T>(res: Response, call: UpstreamCall): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ProviderError(
      redact(`${call.provider} sent a response that is not JSON while ${call.action}`, [
        call.secret,
      ]),
      true,
      res.status,
    );
  }
}

/** The env value as a string, or undefined when unset or empty. */
export function envString(env: ProviderDeps["env"], name: string): string | undefined {
  const v = env[name];
  if (v === undefined || v === null || v === false) return undefined;
  const s = String(v).trim();
  return s === "" ? undefined : s;
}

/** A base URL from env without a trailing slash, with the provider's public default. */
export function baseUrl(env: ProviderDeps["env"], name: string, fallback: string): string {
  return (envString(env, name) ?? fallback).replace(/\/+$/, "");
}

/** The key or a clear non-retryable error: a missing key will not appear by retrying. */
export function requireKey(env: ProviderDeps["env"], name: string, provider: string): string {
  const key = envString(env, name);
  if (!key) throw new ProviderError(`${provider} is not configured (${name} is unset)`, false);
  return key;
}

/** True when url has the same origin as base: provider keys go only to the provider's host. */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** Base64 of bytes, for providers that take images inline. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/** How many pages of a provider's job list an orphan search reads at most (newest first). */
export const ORPHAN_PAGES = 3;
/** An orphan may carry a creation time this much before our attempt began (clock skew). */
export const ORPHAN_SKEW_MS = 60_000;

/**
 * True when a listed job was started with what we sent: every field we sent is there, equal
 * (the provider may add defaults of its own). The orphan search's match.
 */
export function sentWith(stored: unknown, sent: Record<string, unknown>): boolean {
  if (typeof stored !== "object" || stored === null) return false;
  const s = stored as Record<string, unknown>;
  return Object.entries(sent).every(([k, v]) => isDeepStrictEqual(s[k], v));
}

/** A listed job's creation time (ms), when it lies in the orphan window from sinceMs; else null. */
export function orphanTime(createdAt: unknown, sinceMs: number): number | null {
  const at = typeof createdAt === "string" ? Date.parse(createdAt) : NaN;
  return Number.isFinite(at) && at >= sinceMs - ORPHAN_SKEW_MS ? at : null;
}

/**
 * The body of an operator route (CATALOG_FILE): its defaults, then each option the request has
 * under the provider's name the route maps it to. Durations go as the provider types them.
 */
export function mappedInput(
  req: VideoRequest,
  endpoint: EndpointFields,
  durationAs: "string" | "number",
): Record<string, unknown> {
  const ours: Record<string, unknown> = {
    duration: durationAs === "string" ? String(req.duration) : req.duration,
    resolution: req.resolution,
    aspect_ratio: req.aspectRatio,
    image_url: req.image?.url,
    negative_prompt: req.negativePrompt || undefined,
    seed: req.seed,
    audio: req.audio,
    enhance_prompt: req.enhancePrompt === true,
  };
  const input: Record<string, unknown> = { ...endpoint.defaults };
  input[endpoint.fields.prompt ?? "prompt"] = req.prompt;
  for (const [option, field] of Object.entries(endpoint.fields)) {
    if (option !== "prompt" && ours[option] !== undefined) input[field] = ours[option];
  }
  return input;
}
