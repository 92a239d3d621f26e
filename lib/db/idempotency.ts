import { Conflict } from "../errors.ts";
import { sha256Hex } from "../crypto.ts";

/**
 * Idempotency-Key records: the same key with the same body within 24 h answers with the first
 * response; a different body is a 409. The record is created in the same commit as the work.
 */

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export interface IdempotencyRecord<T> {
  body_hash: string;
  response: T;
  created_at: number; // ms
}

export const idempotencyKey = (orgId: string, key: string): Deno.KvKey => [
  "idempotency",
  orgId,
  key,
];

/** Canonical JSON (sorted object keys) hashed with SHA-256, so key order and spacing do not matter. */
export function hashBody(body: unknown): string {
  const canonical = JSON.stringify(
    body,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
        : v,
  );
  return sha256Hex(canonical);
}

export type IdempotencyLookup<T> =
  | { kind: "replay"; response: T }
  | { kind: "fresh"; entry: Deno.KvEntryMaybe<IdempotencyRecord<T>> };

/** Judges an entry already read (many keys are read at once with getMany): a live record with
 * the same hash replays, another hash is a Conflict. */
export function judgeIdempotency<T>(
  entry: Deno.KvEntryMaybe<IdempotencyRecord<T>>,
  bodyHash: string,
  nowMs: number,
): IdempotencyLookup<T> {
  const rec = entry.value;
  if (rec && nowMs - rec.created_at < IDEMPOTENCY_TTL_MS) {
    if (rec.body_hash !== bodyHash) {
      throw new Conflict(
        "This Idempotency-Key was already used with a different request body",
        "idempotency_key_reused",
      );
    }
    return { kind: "replay", response: rec.response };
  }
  return { kind: "fresh", entry };
}

/**
 * Claims the key in an atomic op, over what was read (absent or expired: judgeIdempotency). Unchecked: only group
 * commits claim keys, and each checks the org's balance entry it writes, which serializes them
 * (lib/generations/batch.ts).
 */
export function addIdempotencyRecord<T>(
  a: Deno.AtomicOperation,
  orgId: string,
  key: string,
  rec: IdempotencyRecord<T>,
) {
  a.set(idempotencyKey(orgId, key), rec, { expireIn: IDEMPOTENCY_TTL_MS });
}

/** What the record expiry sweep (lib/db/expiry.ts) deletes here: records past their 24 h. */
export const EXPIRED_IDEMPOTENCY = {
  kind: "idempotency",
  prefix: ["idempotency"],
  keysIfExpired: (e: Deno.KvEntry<IdempotencyRecord<unknown>>, nowMs: number): Deno.KvKey[] =>
    nowMs - e.value.created_at >= IDEMPOTENCY_TTL_MS ? [e.key] : [],
};
