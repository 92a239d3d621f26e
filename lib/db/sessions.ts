import { randomToken, sha256Hex } from "../crypto.ts";
import { newId } from "../ids.ts";

/**
 * Dashboard sessions. The cookie carries a random token; KV holds only its SHA-256, so a copy
 * of the database cannot be replayed as cookies. Keys: ["sessions", tokenHash] and
 * ["user_sessions", userId, sessionId] -> tokenHash (the user's session list, "sign out this one /
 * the others / everywhere"); both are written together with the same expiry.
 * Expiry slides: each use at least SLIDE_EVERY_MS after the last one extends it and moves
 * last_seen_at, so "last seen" is right to the minute at the cost of one write a minute.
 */
export interface Session {
  id: string;
  user_id: string;
  /** The organization the user last chose; null until they pick or create one. */
  org_id: string | null;
  created_at: number; // ms
  last_seen_at: number; // ms
  expires_at: number; // ms
  /** The browser's User-Agent at sign-in (truncated), to tell sessions apart; absent if none. */
  user_agent?: string | null;
}

export const SESSION_TTL_MS = 30 * 24 * 3600_000;
const SLIDE_EVERY_MS = 60_000;
const MAX_USER_AGENT = 256;

const sessionKey = (tokenHash: string): Deno.KvKey => ["sessions", tokenHash];
const userSessionKey = (userId: string, sessionId: string): Deno.KvKey => [
  "user_sessions",
  userId,
  sessionId,
];

export async function createSession(
  kv: Deno.Kv,
  userId: string,
  opts: { orgId?: string | null; nowMs?: number; ttlMs?: number; userAgent?: string | null } = {},
): Promise<{ token: string; session: Session }> {
  const nowMs = opts.nowMs ?? Date.now();
  const ttl = opts.ttlMs ?? SESSION_TTL_MS;
  const token = randomToken(32);
  const hash = sha256Hex(token);
  const session: Session = {
    id: newId("ses", nowMs),
    user_id: userId,
    org_id: opts.orgId ?? null,
    created_at: nowMs,
    last_seen_at: nowMs,
    expires_at: nowMs + ttl,
    user_agent: opts.userAgent ? opts.userAgent.slice(0, MAX_USER_AGENT) : null,
  };
  const res = await kv.atomic()
    .check({ key: sessionKey(hash), versionstamp: null })
    .set(sessionKey(hash), session, { expireIn: ttl })
    .set(userSessionKey(userId, session.id), hash, { expireIn: ttl })
    .commit();
  if (!res.ok) throw new Error("session token collision");
  return { token, session };
}

/** The live session for a cookie token (extending its expiry), or null. */
export async function getSession(
  kv: Deno.Kv,
  token: string,
  nowMs = Date.now(),
): Promise<Session | null> {
  if (!/^[0-9a-f]{64}$/.test(token)) return null;
  const hash = sha256Hex(token);
  const entry = await kv.get<Session>(sessionKey(hash));
  const s = entry.value;
  if (!s) return null;
  if (s.expires_at <= nowMs) {
    await removeSession(kv, hash, s);
    return null;
  }
  if (nowMs - s.last_seen_at >= SLIDE_EVERY_MS) {
    const slid = { ...s, last_seen_at: nowMs, expires_at: nowMs + SESSION_TTL_MS };
    // A concurrent request may slide it first; either write is fine, so the result is ignored.
    await kv.atomic().check(entry)
      .set(sessionKey(hash), slid, { expireIn: SESSION_TTL_MS })
      .set(userSessionKey(s.user_id, s.id), hash, { expireIn: SESSION_TTL_MS })
      .commit();
    return slid;
  }
  return s;
}

/** Remembers the organization the user switched to. */
export async function setSessionOrg(kv: Deno.Kv, token: string, orgId: string): Promise<void> {
  const hash = sha256Hex(token);
  for (;;) {
    const entry = await kv.get<Session>(sessionKey(hash));
    if (!entry.value) return;
    const ttl = Math.max(1000, entry.value.expires_at - Date.now());
    const res = await kv.atomic().check(entry)
      .set(sessionKey(hash), { ...entry.value, org_id: orgId }, { expireIn: ttl })
      .commit();
    if (res.ok) return;
  }
}

export async function deleteSession(kv: Deno.Kv, token: string): Promise<void> {
  const hash = sha256Hex(token);
  const s = (await kv.get<Session>(sessionKey(hash))).value;
  if (s) await removeSession(kv, hash, s);
}

async function removeSession(kv: Deno.Kv, hash: string, s: Session) {
  await kv.atomic().delete(sessionKey(hash)).delete(userSessionKey(s.user_id, s.id)).commit();
}

/** The user's live sessions, most recently seen first. */
export async function listUserSessions(
  kv: Deno.Kv,
  userId: string,
  nowMs = Date.now(),
): Promise<Session[]> {
  const hashes: string[] = [];
  for await (const e of kv.list<string>({ prefix: ["user_sessions", userId] })) {
    hashes.push(e.value);
  }
  const out: Session[] = [];
  for (let i = 0; i < hashes.length; i += 10) { // getMany reads at most 10 keys
    const entries = await kv.getMany<Session[]>(hashes.slice(i, i + 10).map(sessionKey));
    for (const e of entries) {
      if (e.value && e.value.user_id === userId && e.value.expires_at > nowMs) out.push(e.value);
    }
  }
  return out.sort((a, b) => b.last_seen_at - a.last_seen_at || b.created_at - a.created_at);
}

/**
 * Ends one of the user's sessions by its id. Looked up under the user's own index, so an id of
 * someone else's session ends nothing. Returns whether a session ended.
 */
export async function deleteUserSession(
  kv: Deno.Kv,
  userId: string,
  sessionId: string,
): Promise<boolean> {
  const index = await kv.get<string>(userSessionKey(userId, sessionId));
  if (!index.value) return false;
  const res = await kv.atomic().check(index).delete(sessionKey(index.value)).delete(index.key)
    .commit();
  return res.ok;
}

/**
 * Signs the user out on every device, or on every other one with `except` (a session id).
 * Returns how many sessions ended.
 */
export async function deleteUserSessions(
  kv: Deno.Kv,
  userId: string,
  opts: { except?: string } = {},
): Promise<number> {
  let n = 0;
  for await (const e of kv.list<string>({ prefix: ["user_sessions", userId] })) {
    if (e.key[2] === opts.except) continue;
    await kv.atomic().delete(sessionKey(e.value)).delete(e.key).commit();
    n++;
  }
  return n;
}

export async function countUserSessions(kv: Deno.Kv, userId: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["user_sessions", userId] })) n++;
  return n;
}

/**
 * Magic sign-in links: single use, expiring, stored under the SHA-256 of the token
 * (["magic_links", hash]) so the database never holds a usable link.
 */
export interface MagicLink {
  email: string;
  next: string;
  created_at: number; // ms
  expires_at: number; // ms
}

export const MAGIC_LINK_TTL_MS = 15 * 60_000;
const magicKey = (hash: string): Deno.KvKey => ["magic_links", hash];

export async function createMagicLink(
  kv: Deno.Kv,
  input: { email: string; next: string },
  nowMs = Date.now(),
): Promise<string> {
  const token = randomToken(32);
  const link: MagicLink = { ...input, created_at: nowMs, expires_at: nowMs + MAGIC_LINK_TTL_MS };
  await kv.set(magicKey(sha256Hex(token)), link, { expireIn: MAGIC_LINK_TTL_MS });
  return token;
}

/** Reads a link without using it (the confirmation page). */
export async function peekMagicLink(
  kv: Deno.Kv,
  token: string,
  nowMs = Date.now(),
): Promise<MagicLink | null> {
  if (!/^[0-9a-f]{64}$/.test(token)) return null;
  const link = (await kv.get<MagicLink>(magicKey(sha256Hex(token)))).value;
  return link && link.expires_at > nowMs ? link : null;
}

/** Uses a link: at most one caller gets it back, however many race. */
export async function consumeMagicLink(
  kv: Deno.Kv,
  token: string,
  nowMs = Date.now(),
): Promise<MagicLink | null> {
  if (!/^[0-9a-f]{64}$/.test(token)) return null;
  const key = magicKey(sha256Hex(token));
  const entry = await kv.get<MagicLink>(key);
  if (!entry.value) return null;
  const res = await kv.atomic().check(entry).delete(key).commit();
  if (!res.ok || entry.value.expires_at <= nowMs) return null;
  return entry.value;
}

/**
 * Sign-in attempt counters per fixed window: ["signin_attempts", scope, subject, window].
 * Returns whether this attempt is within `limit`, and when the window ends.
 */
export async function countSignInAttempt(
  kv: Deno.Kv,
  scope: "email" | "ip" | "email_client" | "oauth_ip" | "invite_user" | "invite_org",
  subject: string,
  opts: { limit: number; windowMs: number; nowMs?: number },
): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const nowMs = opts.nowMs ?? Date.now();
  const window = Math.floor(nowMs / opts.windowMs);
  const key: Deno.KvKey = ["signin_attempts", scope, subject, window];
  const retryAfterSeconds = Math.ceil(((window + 1) * opts.windowMs - nowMs) / 1000);
  for (;;) {
    const entry = await kv.get<number>(key);
    const count = entry.value ?? 0;
    if (count >= opts.limit) return { allowed: false, retryAfterSeconds };
    const res = await kv.atomic().check(entry).set(key, count + 1, { expireIn: opts.windowMs })
      .commit();
    if (res.ok) return { allowed: true, retryAfterSeconds: 0 };
  }
}

/**
 * Sign-in mails per address: ["signin_mail", email] -> when the last one went and how many went
 * that UTC day. A mail is reserved only when the address's last link has had `cooldownMs` (so it
 * is still usable meanwhile) and the day's count is under `perDay`. Returns whether to send.
 */
interface SignInMailRecord {
  last_sent_at: number; // ms
  day: number; // days since the epoch, UTC
  count: number;
}

export async function reserveSignInMail(
  kv: Deno.Kv,
  email: string,
  opts: { cooldownMs: number; perDay: number; nowMs: number },
): Promise<boolean> {
  const key: Deno.KvKey = ["signin_mail", email];
  const day = Math.floor(opts.nowMs / 86_400_000);
  for (;;) {
    const entry = await kv.get<SignInMailRecord>(key);
    const r = entry.value;
    if (r && opts.nowMs - r.last_sent_at < opts.cooldownMs) return false;
    const count = r && r.day === day ? r.count : 0;
    if (count >= opts.perDay) return false;
    const next: SignInMailRecord = { last_sent_at: opts.nowMs, day, count: count + 1 };
    const res = await kv.atomic().check(entry).set(key, next, { expireIn: 2 * 86_400_000 })
      .commit();
    if (res.ok) return true;
  }
}

/**
 * OAuth sign-in in flight: ["oauth_states", sha256(state)] -> provider, and the PKCE verifier and
 * next sealed (lib/secret_box.ts).
 */
export interface OAuthState {
  provider: string;
  verifier: string;
  next: string;
}

const oauthStateKey = (state: string): Deno.KvKey => ["oauth_states", state];
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

// Stored under the state's SHA-256, like sessions and links: the database holds no usable state.
export async function saveOAuthState(kv: Deno.Kv, state: string, value: OAuthState) {
  await kv.set(oauthStateKey(sha256Hex(state)), value, { expireIn: OAUTH_STATE_TTL_MS });
}

export async function consumeOAuthState(kv: Deno.Kv, state: string): Promise<OAuthState | null> {
  if (state.length > 200) return null;
  const key = oauthStateKey(sha256Hex(state));
  const entry = await kv.get<OAuthState>(key);
  if (!entry.value) return null;
  const res = await kv.atomic().check(entry).delete(key).commit();
  return res.ok ? entry.value : null;
}

/** What the record expiry sweep (lib/db/expiry.ts) deletes here once past expiry. */
export const EXPIRED_SESSIONS = {
  kind: "sessions",
  prefix: ["sessions"],
  keysIfExpired: (e: Deno.KvEntry<Session>, nowMs: number): Deno.KvKey[] =>
    e.value.expires_at <= nowMs ? [e.key, userSessionKey(e.value.user_id, e.value.id)] : [],
};
export const EXPIRED_MAGIC_LINKS = {
  kind: "magic_links",
  prefix: ["magic_links"],
  keysIfExpired: (e: Deno.KvEntry<MagicLink>, nowMs: number): Deno.KvKey[] =>
    e.value.expires_at <= nowMs ? [e.key] : [],
};
