import { z } from "zod";
import type { Services } from "../services.ts";
import { type ApiKey, createApiKey, listApiKeys, revokeApiKey } from "../db/apikeys.ts";
import { NotFound } from "../errors.ts";
import { isId } from "../ids.ts";
import type { Role } from "../db/memberships.ts";
import { requireRole } from "./roles.ts";

/** The keys page's rules: who may do what, and what a valid new key looks like. */

export const MAX_KEY_NAME = 64;

export const NewKeyForm = z.object({
  name: z.string().trim().min(1, "Give the key a name, e.g. “production server”")
    .max(MAX_KEY_NAME, `Keep the name under ${MAX_KEY_NAME} characters`),
  expires_on: z.string().trim().regex(/^(\d{4}-\d{2}-\d{2})?$/, "Pick a date, or leave it empty")
    .optional(),
});

export type KeyView = Omit<ApiKey, "hash"> & { status: "active" | "expired" | "revoked" };

export function toKeyView(k: ApiKey, nowMs: number): KeyView {
  const { hash: _hash, ...rest } = k;
  const status = k.revoked_at !== null
    ? "revoked"
    : k.expires_at !== null && k.expires_at <= nowMs
    ? "expired"
    : "active";
  return { ...rest, status };
}

/** Newest first, without hashes. */
export async function listKeysForPage(services: Services, orgId: string): Promise<KeyView[]> {
  const now = services.now();
  return (await listApiKeys(services.kv, orgId)).reverse().map((k) => toKeyView(k, now));
}

export async function getKeyForPage(services: Services, orgId: string, keyId: string) {
  if (!isId("key", keyId)) throw new NotFound("No such API key", "id");
  const key = (await listKeysForPage(services, orgId)).find((k) => k.id === keyId);
  if (!key) throw new NotFound("No such API key", "id");
  return key;
}

/**
 * "2026-12-31" means the key works through the end of that day (UTC). Returns the expiry in ms,
 * null for none, or an error message for the field.
 */
export function parseExpiry(value: string | undefined, nowMs: number): number | null | string {
  if (!value) return null;
  const start = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(start)) return "Pick a valid date";
  const end = start + 86_400_000;
  if (end <= nowMs) return "Pick a date in the future";
  if (end - nowMs > 5 * 366 * 86_400_000) return "Pick a date within five years";
  return end;
}

export type CreateKeyResult =
  | { ok: true; secret: string; key: KeyView }
  | { ok: false; errors: { name?: string; expires_on?: string } };

/** Admins and owners create keys; the secret is returned once and never stored. */
export async function createKeyFromForm(
  services: Services,
  state: { org?: { id: string }; role?: Role },
  form: Record<string, unknown>,
): Promise<CreateKeyResult> {
  requireRole(state, "admin");
  const parsed = NewKeyForm.safeParse(form);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const i of parsed.error.issues) errors[String(i.path[0])] ??= i.message;
    return { ok: false, errors };
  }
  const nowMs = services.now();
  const expiresAt = parseExpiry(parsed.data.expires_on, nowMs);
  if (typeof expiresAt === "string") return { ok: false, errors: { expires_on: expiresAt } };
  const created = await createApiKey(services.kv, state.org!.id, {
    name: parsed.data.name,
    expiresAt,
  }, { nowMs });
  return { ok: true, secret: created.key, key: toKeyView(created.record, nowMs) };
}

export async function revokeKeyFromForm(
  services: Services,
  state: { org?: { id: string }; role?: Role },
  keyId: string,
): Promise<KeyView> {
  requireRole(state, "admin");
  if (!isId("key", keyId)) throw new NotFound("No such API key", "id");
  return toKeyView(await revokeApiKey(services.kv, state.org!.id, keyId, services.now()), 0);
}
