import { NotFound, Unauthorized } from "../errors.ts";
import { newId } from "../ids.ts";
import { getOrg } from "./orgs.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import type { Cents } from "../catalog/money.ts";
import type { LimitReset } from "./period.ts";
import { keyCacheFor, REVOCATION_SIGNAL } from "./apikey_cache.ts";

/**
 * API keys. The secret is shown once; only its SHA-256 is stored. The record itself lives at
 * ["apikey_by_hash", hash] so authenticating a request is one KV read; ["apikeys", id] holds the
 * hash for lookups by id. last_used_at is refreshed at most once a minute, off the hot path.
 */
export interface ApiKey {
  id: string;
  org_id: string;
  name: string;
  /** What the dashboard shows: "pv_" and the first 8 characters of the secret. */
  prefix: string;
  hash: string;
  created_at: number; // ms
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

const keyKey = (keyId: string): Deno.KvKey => ["apikeys", keyId];
const byHashKey = (hash: string): Deno.KvKey => ["apikey_by_hash", hash];
const orgKeysKey = (orgId: string, keyId: string): Deno.KvKey => ["org_apikeys", orgId, keyId];

const TOUCH_EVERY_MS = 60_000;

/**
 * A key's spend limit, kept beside the key (not in its auth record) so a charge reads it by key
 * id in the same round trip as the balance, and editing it never races last_used_at.
 */
export interface KeyLimit {
  limit_cents: Cents | null;
  limit_reset: LimitReset;
  updated_at: number;
}

export const NO_LIMIT: Omit<KeyLimit, "updated_at"> = { limit_cents: null, limit_reset: "never" };

export const keyLimitKey = (keyId: string): Deno.KvKey => ["apikey_limit", keyId];

export async function getKeyLimit(kv: Deno.Kv, keyId: string): Promise<KeyLimit | null> {
  return (await kv.get<KeyLimit>(keyLimitKey(keyId))).value;
}

/** Sets (or with limit_cents null, removes) an org's key's limit; NotFound for another org's. */
export async function setKeyLimit(
  kv: Deno.Kv,
  orgId: string,
  keyId: string,
  limit: Omit<KeyLimit, "updated_at">,
  nowMs: number,
): Promise<KeyLimit> {
  const entry = await loadKey(kv, keyId);
  if (!entry?.value || entry.value.org_id !== orgId) throw new NotFound("No such API key", "id");
  const record = { ...limit, updated_at: nowMs };
  await kv.set(keyLimitKey(keyId), record);
  return record;
}

export interface NewApiKey {
  id: string;
  key: string;
  record: ApiKey;
}

export async function createApiKey(
  kv: Deno.Kv,
  orgId: string,
  input: {
    name: string;
    expiresAt?: number | null;
    limit?: Omit<KeyLimit, "updated_at"> | null;
  },
  deps: { nowMs?: number } = {},
): Promise<NewApiKey> {
  const nowMs = deps.nowMs ?? Date.now();
  if (!(await getOrg(kv, orgId))) throw new NotFound(`No organization ${orgId}`, "org");
  const secret = randomToken(32, "pv_");
  const hash = sha256Hex(secret);
  const record: ApiKey = {
    id: newId("key", nowMs),
    org_id: orgId,
    name: input.name.trim(),
    prefix: secret.slice(0, 11),
    hash,
    created_at: nowMs,
    last_used_at: null,
    expires_at: input.expiresAt ?? null,
    revoked_at: null,
  };
  const a = kv.atomic()
    .check({ key: byHashKey(hash), versionstamp: null })
    .set(byHashKey(hash), record)
    .set(keyKey(record.id), hash)
    .set(orgKeysKey(orgId, record.id), hash);
  if (input.limit) a.set(keyLimitKey(record.id), { ...input.limit, updated_at: nowMs });
  const res = await a.commit();
  if (!res.ok) throw new Error("API key collision");
  return { id: record.id, key: secret, record };
}

/**
 * Resolves a bearer secret to its key, or throws Unauthorized. A live key is kept in this
 * handle's key cache for up to a second (see apikey_cache.ts: revocation takes effect within a
 * second everywhere, at once on the revoking instance); a miss is one KV read. The last_used_at
 * refresh is handed to `waitUntil` (default: fire and forget) so a request never waits on it.
 * Orgs are never deleted, so the key's org id needs no second read. `alsoRead` keys come back
 * from the same KV round trip (a request's record, read before its org is known: the caller
 * must check that the record belongs to the key's org).
 */
export async function authenticateKey(
  kv: Deno.Kv,
  secret: string,
  nowMs = Date.now(),
  opts: { waitUntil?: (p: Promise<unknown>) => void; alsoRead?: Deno.KvKey[] } = {},
): Promise<{ key: ApiKey; also: Deno.KvEntryMaybe<unknown>[] }> {
  if (!secret.startsWith("pv_")) throw new Unauthorized();
  const cache = keyCacheFor<ApiKey>(kv);
  const alsoRead = opts.alsoRead ?? [];
  let cached = cache.get(secret);
  let entry = cached?.entry;
  let also: Deno.KvEntryMaybe<unknown>[] = [];
  if (entry) {
    if (alsoRead.length) also = await kv.getMany(alsoRead);
  } else {
    const readAt = performance.now();
    const epoch = cache.epoch();
    let found: Deno.KvEntryMaybe<unknown>;
    [found, ...also] = await kv.getMany([byHashKey(sha256Hex(secret)), ...alsoRead]);
    const key = found.value as ApiKey | null;
    if (!key || key.revoked_at !== null) throw new Unauthorized();
    entry = found as Deno.KvEntry<ApiKey>;
    cached = cache.put(secret, entry, readAt, epoch);
  }
  const key = entry.value;
  if (key.expires_at !== null && key.expires_at <= nowMs) {
    throw new Unauthorized("API key has expired", "expired_api_key");
  }
  if (key.last_used_at === null || nowMs - key.last_used_at >= TOUCH_EVERY_MS) {
    // Cached as touched, so the requests of the next second do not touch again.
    if (cached) cached.entry = { ...entry, value: { ...key, last_used_at: nowMs } };
    const touch = kv.atomic().check(entry).set(entry.key, { ...key, last_used_at: nowMs })
      .commit().catch((err) => console.error(`api key ${key.id}: last_used_at update failed`, err));
    (opts.waitUntil ?? (() => {}))(touch);
  }
  return { key, also };
}

/** A key by id, or null. */
export async function getApiKey(kv: Deno.Kv, keyId: string): Promise<ApiKey | null> {
  return (await loadKey(kv, keyId))?.value ?? null;
}

async function loadKey(kv: Deno.Kv, keyId: string) {
  const hash = (await kv.get<string>(keyKey(keyId))).value;
  return hash ? await kv.get<ApiKey>(byHashKey(hash)) : null;
}

export async function revokeApiKey(
  kv: Deno.Kv,
  orgId: string,
  keyId: string,
  nowMs = Date.now(),
): Promise<ApiKey> {
  for (;;) {
    const entry = await loadKey(kv, keyId);
    if (!entry?.value || entry.value.org_id !== orgId) throw new NotFound("No such API key", "id");
    if (entry.value.revoked_at !== null) return entry.value;
    const revoked = { ...entry.value, revoked_at: nowMs };
    const res = await kv.atomic().check(entry).set(entry.key, revoked)
      .set(REVOCATION_SIGNAL, { key_id: keyId, at: nowMs }).commit();
    if (res.ok) {
      keyCacheFor(kv).clear();
      return revoked;
    }
  }
}

/** The org's keys, oldest first. Callers showing them must drop `hash`. */
export async function listApiKeys(kv: Deno.Kv, orgId: string): Promise<ApiKey[]> {
  const hashes: string[] = [];
  for await (const e of kv.list<string>({ prefix: ["org_apikeys", orgId] })) hashes.push(e.value);
  const out: ApiKey[] = [];
  for (let i = 0; i < hashes.length; i += 10) {
    const entries = await kv.getMany<ApiKey[]>(hashes.slice(i, i + 10).map(byHashKey));
    for (const e of entries) if (e.value) out.push(e.value);
  }
  return out;
}
