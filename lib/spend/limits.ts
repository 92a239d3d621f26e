import { getKeyLimit, type KeyLimit, NO_LIMIT, setKeyLimit } from "../db/apikeys.ts";

/**
 * Changes part of a key's limit (what is not given stays). A new limit applies to the next
 * charge; charges already made stay as they were, even when they exceed it.
 */
export async function updateKeyLimit(
  kv: Deno.Kv,
  orgId: string,
  keyId: string,
  patch: Partial<Omit<KeyLimit, "updated_at">>,
  nowMs: number,
) {
  const cur = (await getKeyLimit(kv, keyId)) ?? NO_LIMIT;
  const next = {
    limit_cents: patch.limit_cents === undefined ? cur.limit_cents : patch.limit_cents,
    limit_reset: patch.limit_reset ?? cur.limit_reset,
  };
  await setKeyLimit(kv, orgId, keyId, next, nowMs);
  return { id: keyId, ...next };
}
