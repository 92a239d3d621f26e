import { randomToken } from "../crypto.ts";
import { createSecretBox } from "../secret_box.ts";

/**
 * One-time messages between a POST and the GET it redirects to (POST → 303 → GET), for what
 * must be shown once and never put in a URL: a new key's secret, a webhook signing secret, an
 * invitation link. Keys: ["flash", sessionId, id] -> the message sealed (lib/secret_box.ts) under
 * a key derived from the session's cookie token, which KV never holds (only its SHA-256): a copy
 * of the database cannot open it, only the browser that made it. Read at most once, gone after
 * FLASH_TTL_MS even if never read (and swept then: EXPIRED_FLASH).
 */
export type FlashMessage =
  | { kind: "key_created"; keyId: string; name: string; secret: string }
  | { kind: "webhook_created"; endpointId: string; url: string; secret: string }
  | { kind: "webhook_rotated"; endpointId: string; secret: string }
  | { kind: "invite_created"; link: string; emailed: boolean; email: string | null };

/** Whose flash it is: the session id (in the key) and its cookie token (the sealing key). */
export interface FlashOwner {
  sessionId: string;
  token: string;
}

export const FLASH_TTL_MS = 5 * 60_000;

interface Stored {
  sealed: string;
  expires_at: number;
}

const flashKey = (sessionId: string, id: string): Deno.KvKey => ["flash", sessionId, id];

/** Stores `message` for the session; returns the id the redirect carries. */
export async function putFlash(
  kv: Deno.Kv,
  owner: FlashOwner,
  message: FlashMessage,
  nowMs: number,
): Promise<string> {
  const id = randomToken(12);
  const sealed = await createSecretBox(owner.token).seal(JSON.stringify(message));
  const value: Stored = { sealed, expires_at: nowMs + FLASH_TTL_MS };
  await kv.set(flashKey(owner.sessionId, id), value, { expireIn: FLASH_TTL_MS });
  return id;
}

/** The message once (deleting it in the same commit), or null: unknown, read, or expired. */
export async function takeFlash<K extends FlashMessage["kind"]>(
  kv: Deno.Kv,
  owner: FlashOwner,
  id: string | null,
  kind: K,
  nowMs: number,
): Promise<Extract<FlashMessage, { kind: K }> | null> {
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
  const entry = await kv.get<Stored>(flashKey(owner.sessionId, id));
  if (!entry.value) return null;
  const res = await kv.atomic().check(entry).delete(entry.key).commit();
  // Another tab read it first: it was shown there.
  if (!res.ok) return null;
  const { sealed, expires_at } = entry.value;
  if (expires_at <= nowMs || typeof sealed !== "string") return null;
  const message = await createSecretBox(owner.token).open(sealed).then(
    (json) => JSON.parse(json) as FlashMessage,
    () => null, // sealed for another token: a session id reused with another cookie
  );
  if (!message || message.kind !== kind) return null;
  return message as Extract<FlashMessage, { kind: K }>;
}

/** What the record expiry sweep (lib/db/expiry.ts) deletes here once past expiry. */
export const EXPIRED_FLASH = {
  kind: "flash",
  prefix: ["flash"],
  keysIfExpired: (e: Deno.KvEntry<Stored>, nowMs: number): Deno.KvKey[] =>
    e.value.expires_at <= nowMs ? [e.key] : [],
};
