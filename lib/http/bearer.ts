import { createHash, timingSafeEqual } from "node:crypto";

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
export function bearerToken(req: Request): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("Authorization") ?? "");
  return m ? m[1] : null;
}

/**
 * Whether a presented secret equals the expected one, in constant time (both hashed first, so
 * the lengths match and a wrong length reveals nothing). A null or empty presentation never does.
 */
export function sameSecret(given: string | null, expected: string): boolean {
  if (!given) return false;
  const hash = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(hash(given), hash(expected));
}
