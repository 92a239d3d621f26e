import type { Cents } from "../catalog/money.ts";
import { type ApiKey, getKeyLimit, type KeyLimit, listApiKeys, NO_LIMIT } from "../db/apikeys.ts";
import { type Counter, keySpendKey, type PeriodUsage, u64 } from "../db/spend.ts";
import { type LimitReset, periodEnd, periodId } from "../db/period.ts";

/** What a key has spent and how many requests it made: today, in its limit period, all time. */
export interface KeyUsage {
  key_id: string;
  name: string;
  limit_cents: Cents | null;
  limit_reset: LimitReset;
  today: PeriodUsage;
  period: PeriodUsage;
  all_time: PeriodUsage;
  /** End of the limit period (ms), null when it never resets. */
  resets_at: number | null;
}

const COUNTERS: Counter[] = ["charged", "refunded", "requests"];

export async function getKeyUsage(
  kv: Deno.Kv,
  key: Pick<ApiKey, "id" | "name">,
  limit: Omit<KeyLimit, "updated_at"> | null,
  nowMs: number,
): Promise<KeyUsage> {
  const l = limit ?? NO_LIMIT;
  const periods = [periodId("daily", nowMs), periodId(l.limit_reset, nowMs), "all"];
  const entries = await kv.getMany<Deno.KvU64[]>(
    periods.flatMap((p) => COUNTERS.map((c) => keySpendKey(key.id, p, c))),
  );
  const at = (i: number): PeriodUsage => ({
    spent_cents: Math.max(0, u64(entries[3 * i]) - u64(entries[3 * i + 1])),
    requests: u64(entries[3 * i + 2]),
  });
  return {
    key_id: key.id,
    name: key.name,
    limit_cents: l.limit_cents,
    limit_reset: l.limit_reset,
    today: at(0),
    period: at(1),
    all_time: at(2),
    resets_at: periodEnd(l.limit_reset, nowMs),
  };
}

/** Usage of every key of the org, oldest key first (revoked ones too: their spend happened). */
export async function listKeyUsage(kv: Deno.Kv, orgId: string, nowMs: number) {
  const keys = await listApiKeys(kv, orgId);
  return await Promise.all(
    keys.map(async (k) => await getKeyUsage(kv, k, await getKeyLimit(kv, k.id), nowMs)),
  );
}

const toSec = (ms: number | null) => ms === null ? null : Math.floor(ms / 1000);

/** GET /v1/key's `data` (OpenRouter's convention, in cents; times in Unix seconds). */
export async function describeKey(kv: Deno.Kv, key: ApiKey, nowMs: number) {
  const u = await getKeyUsage(kv, key, await getKeyLimit(kv, key.id), nowMs);
  return {
    id: key.id,
    name: key.name,
    label: `${key.prefix}…`,
    limit_cents: u.limit_cents,
    limit_reset: u.limit_reset,
    spent_cents: u.period.spent_cents,
    limit_remaining_cents: u.limit_cents === null
      ? null
      : Math.max(0, u.limit_cents - u.period.spent_cents),
    resets_at: u.limit_cents === null ? null : toSec(u.resets_at),
    expires_at: toSec(key.expires_at),
    usage: { today: u.today, period: u.period, all_time: u.all_time },
  };
}

/** The additive `by_key` field of GET /v1/usage. */
export async function usageByKey(kv: Deno.Kv, orgId: string, nowMs: number) {
  return (await listKeyUsage(kv, orgId, nowMs)).map((u) => ({
    key_id: u.key_id,
    name: u.name,
    limit_cents: u.limit_cents,
    limit_reset: u.limit_reset,
    resets_at: u.limit_cents === null ? null : toSec(u.resets_at),
    today: u.today,
    period: u.period,
    all_time: u.all_time,
  }));
}
