import { randomToken, sha256Hex } from "../crypto.ts";
import { newId } from "../ids.ts";

/**
 * Operator console sessions (/admin), apart from users' dashboard sessions: the cookie carries a
 * random token, KV holds only its SHA-256 under ["operator_sessions", tokenHash] with the
 * session's expiry, and each session has its own CSRF token for the console's forms. Never the
 * ADMIN_TOKEN itself: that is checked once at sign-in and not kept anywhere.
 */
export interface OperatorSession {
  id: string;
  /** Every console form posts it back; compared in constant time. */
  csrf: string;
  created_at: number; // ms
  expires_at: number; // ms
}

/** Short: an operator signs in again after half an hour. */
export const OPERATOR_SESSION_TTL_MS = 30 * 60_000;

const operatorSessionKey = (tokenHash: string): Deno.KvKey => ["operator_sessions", tokenHash];

export async function createOperatorSession(
  kv: Deno.Kv,
  nowMs: number,
): Promise<{ token: string; session: OperatorSession }> {
  const token = randomToken(32);
  const session: OperatorSession = {
    id: newId("ops", nowMs),
    csrf: randomToken(32),
    created_at: nowMs,
    expires_at: nowMs + OPERATOR_SESSION_TTL_MS,
  };
  const key = operatorSessionKey(sha256Hex(token));
  const res = await kv.atomic().check({ key, versionstamp: null })
    .set(key, session, { expireIn: OPERATOR_SESSION_TTL_MS }).commit();
  if (!res.ok) throw new Error("operator session token collision");
  return { token, session };
}

/** The live session of a cookie token, or null (unknown, malformed or expired). */
export async function getOperatorSession(
  kv: Deno.Kv,
  token: string,
  nowMs: number,
): Promise<OperatorSession | null> {
  if (!/^[0-9a-f]{64}$/.test(token)) return null;
  const s = (await kv.get<OperatorSession>(operatorSessionKey(sha256Hex(token)))).value;
  return s && s.expires_at > nowMs ? s : null;
}

export async function deleteOperatorSession(kv: Deno.Kv, token: string): Promise<void> {
  if (/^[0-9a-f]{64}$/.test(token)) await kv.delete(operatorSessionKey(sha256Hex(token)));
}
