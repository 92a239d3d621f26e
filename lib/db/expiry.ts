/**
 * The record expiry sweep: deletes KV records past their own expiry (sessions, sign-in links,
 * idempotency records, one-time reveals). Records are written with `expireIn`, but KV deletes
 * expired keys only eventually (and a KV Connect server may keep them long): the sweep makes it
 * certain. lib/background.ts runs it as a minute sweep under its own lease, apart from the video
 * retention sweep, so neither waits on the other or fails with it.
 *
 *   ["expiry_lease"]              -> lease expiry (withLease): one sweep at a time
 *   ["expiry_cursor", kind]       -> the last key a scan of `kind` reached
 */
import { EXPIRED_IDEMPOTENCY } from "./idempotency.ts";
import { EXPIRED_MAGIC_LINKS, EXPIRED_SESSIONS } from "./sessions.ts";
import { EXPIRED_FLASH } from "./flash.ts";

export const EXPIRY_JOB = "kv.record_expiry";
export const EXPIRY_LEASE_KEY: Deno.KvKey = ["expiry_lease"];
export const EXPIRY_LEASE_MS = 50_000;
const expiryCursorKey = (kind: string): Deno.KvKey => ["expiry_cursor", kind];

/**
 * Records under one prefix that carry their own expiry; the module owning them exports one
 * (it needs no import of this module: the shape is checked here, in EXPIRING).
 */
export interface ExpiringRecords<T> {
  kind: string;
  prefix: Deno.KvKey;
  /** The keys to delete with this entry (the record and its indexes), or [] if it is live. */
  keysIfExpired(entry: Deno.KvEntry<T>, nowMs: number): Deno.KvKey[];
}

// deno-lint-ignore no-explicit-any
const EXPIRING: ExpiringRecords<any>[] = [
  EXPIRED_SESSIONS,
  EXPIRED_MAGIC_LINKS,
  EXPIRED_IDEMPOTENCY,
  EXPIRED_FLASH,
];

/**
 * Scans up to `limit` entries of each kind from where the last scan stopped (wrapping around at
 * the end) and deletes the expired ones, each with its indexes in one atomic commit checked
 * against what was read, so a record renewed meanwhile stays. Returns how many were deleted.
 */
export async function deleteExpiredRecords(
  kv: Deno.Kv,
  nowMs: number,
  limit = 1000,
): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const records of EXPIRING) {
    const cursorKey = expiryCursorKey(records.kind);
    const from = (await kv.get<Deno.KvKey>(cursorKey)).value;
    let last: Deno.KvKey | null = null;
    let seen = 0;
    deleted[records.kind] = 0;
    const iter = kv.list(
      from ? { prefix: records.prefix, start: [...from, 0] } : { prefix: records.prefix },
      { limit },
    );
    // `start: [...key, 0]` would skip keys under key; records here are leaves, so it is after it.
    for await (const e of iter) {
      seen++;
      last = e.key;
      const keys = records.keysIfExpired(e, nowMs);
      if (!keys.length) continue;
      const a = kv.atomic().check(e);
      for (const k of keys) a.delete(k);
      if ((await a.commit()).ok) deleted[records.kind]++;
    }
    // A short page means the end was reached: the next scan starts from the beginning.
    if (seen < limit) await kv.delete(cursorKey);
    else await kv.set(cursorKey, last);
  }
  return deleted;
}
