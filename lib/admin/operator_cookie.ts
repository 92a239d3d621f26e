import type { Config } from "../config.ts";
import { clearCookie, getCookie, serializeCookie } from "../auth/cookies.ts";
import { secureCookies } from "../auth/session.ts";
import { OPERATOR_SESSION_TTL_MS } from "../db/operator_sessions.ts";

/** The operator console's cookie: a session token (never the ADMIN_TOKEN), sent to /admin only. */
export const OPERATOR_COOKIE = "pv_operator";

export function operatorCookie(config: Config, token: string): string {
  return serializeCookie(OPERATOR_COOKIE, token, {
    secure: secureCookies(config),
    path: "/admin",
    sameSite: "Strict",
    maxAgeSeconds: Math.floor(OPERATOR_SESSION_TTL_MS / 1000),
  });
}

export function clearOperatorCookie(config: Config): string {
  return clearCookie(OPERATOR_COOKIE, { secure: secureCookies(config), path: "/admin" });
}

export function operatorToken(req: Request): string | null {
  return getCookie(req, OPERATOR_COOKIE);
}
