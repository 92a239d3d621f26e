import { randomToken } from "../crypto.ts";

/**
 * One-time messages between a POST and the GET it redirects to (POST → 303 → GET), for what
 * must be shown once and never put in a URL: a new key's secret, a webhook signing secret, an
 * invitation link. Keys: ["flash", sessionId, id]. Bound to the session that made it, read at
 * most once, gone after FLASH_TTL_MS even if never read.
 */
export type FlashMessage =
  | { kind: "key_created"; keyId: string; name: string; secret: string }
  | { kind: "webhook_created"; endpointId: string; url: string; secret: string }
  | { kind: "webhook_rotated"; endpointId: string; secret: string }
  | { kind: "invite_created"; link: string; emailed: boolean; email: string | null };

export const FLASH_TTL_MS = 5 * 60_000;

interface Stored {
  message: FlashMessage;
  expires_at: number;
}

const flashKey = (sessionId: string, id: string): Deno.KvKey => ["flash", sessionId, id];

/** Stores `message` for the session; returns the id the redirect carries. */
export async function putFlash(
  kv: Deno.Kv,
  sessionId: string,
  message: FlashMessage,
  nowMs: number,
): Promise<string> {
  const id = randomToken(12);
  const value: Stored = { message, expires_at: nowMs + FLASH_TTL_MS };
  await kv.set(flashKey(sessionId, id), value, { expireIn: FLASH_TTL_MS });
  return id;
}

/** The message once (deleting it in the same commit), or null: unknown, read, or expired. */
export async function takeFlash<K extends FlashMessage["kind"]>(
  kv: Deno.Kv,
  sessionId: string,
  id: string | null,
  kind: K,
  nowMs: number,
): Promise<Extract<FlashMessage, { kind: K }> | null> {
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
  const entry = await kv.get<Stored>(flashKey(sessionId, id));
  if (!entry.value) return null;
  const res = await kv.atomic().check(entry).delete(entry.key).commit();
  // Another tab read it first: it was shown there.
  if (!res.ok) return null;
  const { message, expires_at } = entry.value;
  if (expires_at <= nowMs || message.kind !== kind) return null;
  return message as Extract<FlashMessage, { kind: K }>;
}
