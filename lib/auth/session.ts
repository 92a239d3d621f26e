import type { Config } from "../config.ts";
import { getUser, type User } from "../db/users.ts";
import { createSession, deleteSession, getSession, type Session } from "../db/sessions.ts";
import { SESSION_TTL_MS } from "../db/sessions.ts";
import { clearCookie, getCookie, serializeCookie } from "./cookies.ts";

export const SESSION_COOKIE = "pv_session";

export function secureCookies(config: Config): boolean {
  return config.publicUrl.startsWith("https:");
}

/** The Set-Cookie value for a new session token. */
export function sessionCookie(config: Config, token: string): string {
  return serializeCookie(SESSION_COOKIE, token, {
    secure: secureCookies(config),
    maxAgeSeconds: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(config: Config): string {
  return clearCookie(SESSION_COOKIE, { secure: secureCookies(config) });
}

export interface SignedIn {
  token: string;
  session: Session;
  user: User;
}

/** The signed-in user of a request, or null (no cookie, unknown or expired session). */
export async function readSession(
  kv: Deno.Kv,
  req: Request,
  nowMs = Date.now(),
): Promise<SignedIn | null> {
  const token = getCookie(req, SESSION_COOKIE);
  if (!token) return null;
  const session = await getSession(kv, token, nowMs);
  if (!session) return null;
  const user = await getUser(kv, session.user_id);
  if (!user) return null;
  return { token, session, user };
}

/**
 * Starts a session for a user who just proved who they are. Any session the browser already had
 * is ended, so a session id planted before sign-in is never promoted (fixation).
 */
export async function startSession(
  kv: Deno.Kv,
  config: Config,
  req: Request,
  userId: string,
  nowMs = Date.now(),
): Promise<{ token: string; session: Session; setCookie: string }> {
  const previous = getCookie(req, SESSION_COOKIE);
  let orgId: string | null = null;
  if (previous) {
    const old = await getSession(kv, previous, nowMs);
    if (old && old.user_id === userId) orgId = old.org_id;
    await deleteSession(kv, previous);
  }
  const userAgent = req.headers.get("user-agent");
  const { token, session } = await createSession(kv, userId, { orgId, nowMs, userAgent });
  return { token, session, setCookie: sessionCookie(config, token) };
}

// Any origin would do: only whether the resolved URL stays on it matters.
const NEXT_BASE = "http://pipevideo.invalid";
// C0/C1 controls, DEL, every Unicode space and backslashes: browsers strip tabs and newlines and
// read "\\" as "/", so "/\t/evil.example" or "/\\evil.example" would leave the site.
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE_IN_NEXT = /[\u0000-\u001f\u007f-\u009f\s\\]/;

/** Longer than any page of this site needs; sign-in state that holds it stays small. */
export const MAX_NEXT_CHARS = 512;

/**
 * Where to go after sign-in: only a path on this site, returned as pathname+search+hash of the
 * URL it resolves to. Anything else (another origin, "//host", "javascript:", control characters,
 * whitespace, backslashes, a path that normalizes to "//host") gives the fallback.
 */
export function safeNext(next: string | null | undefined, fallback = "/playground"): string {
  if (typeof next !== "string" || next.length > MAX_NEXT_CHARS) return fallback;
  if (!next.startsWith("/") || next.startsWith("//") || UNSAFE_IN_NEXT.test(next)) {
    return fallback;
  }
  let url: URL;
  try {
    url = new URL(next, NEXT_BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== NEXT_BASE) return fallback;
  const path = url.pathname + url.search + url.hash;
  // "/a/..//evil.example" resolves to the path "//evil.example": still a way off the site.
  // Normalizing percent-encodes, so the result is bounded again: it is stored with sign-ins.
  return path.startsWith("//") || path.length > MAX_NEXT_CHARS ? fallback : path;
}
