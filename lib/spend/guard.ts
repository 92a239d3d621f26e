import type { Cents } from "../catalog/money.ts";
import { AppError, BudgetExceeded, KeyLimitExceeded } from "../errors.ts";
import { type KeyLimit, keyLimitKey } from "../db/apikeys.ts";
import {
  keySpendKey,
  monthOf,
  NO_SETTINGS,
  orgSpendKey,
  type SpendSettings,
  spendSettingsKey,
  u64,
} from "../db/spend.ts";
import { periodEnd, periodId, periodsOf } from "../db/period.ts";

/**
 * The spend checks of one group commit (lib/generations/batch.ts): per-key limits and the org's
 * monthly budget, judged against counters read in the same attempt as the balance, and written
 * in the same commit as the debit. A limited counter is set to what was read plus the batch's
 * charges, with no check of its own: only group commits write it, and each checks and writes the
 * org's balance entry, so a commit that raced another charge of the org retries with fresh
 * numbers (denokv allows 10 checks per commit; one per key would not fit). The others only sum().
 */

interface KeyState {
  limit: KeyLimit | null;
  /** The counters read, by period id: charged entry and refunded value. */
  periods: Map<string, { charged: Deno.KvEntryMaybe<Deno.KvU64>; refunded: Cents }>;
  added: Cents;
  requests: number;
}

export interface SpendGuard {
  /** The refusal for a submission of `cost` on `keyId` given what this batch already took. */
  refusal(keyId: string | null, cost: Cents): AppError | null;
  /** Counts an accepted submission. */
  take(keyId: string | null, cost: Cents): void;
  /** Adds the counters' writes to the batch's commit. */
  addMutations(a: Deno.AtomicOperation): void;
  settings: SpendSettings;
}

/** The keys one attempt reads: org settings and month counters, each key's limit and counters. */
function keysToRead(orgId: string, keyIds: string[], periods: string[]): Deno.KvKey[] {
  const month = monthOf(periods);
  return [
    spendSettingsKey(orgId),
    orgSpendKey(orgId, month, "charged"),
    orgSpendKey(orgId, month, "refunded"),
    ...keyIds.flatMap((k) => [
      keyLimitKey(k),
      ...periods.flatMap((p) => [keySpendKey(k, p, "charged"), keySpendKey(k, p, "refunded")]),
    ]),
  ];
}

/** The keys the spend checks of a batch read (the batch reads them with its other keys). */
export function spendGuardKeys(
  orgId: string,
  keyIds: (string | null)[],
  nowMs: number,
): Deno.KvKey[] {
  return keysToRead(orgId, distinctKeys(keyIds), periodsOf(nowMs));
}

const distinctKeys = (keyIds: (string | null)[]) => [
  ...new Set(keyIds.filter((k): k is string => k !== null)),
];

/** The spend checks of a batch from the entries of spendGuardKeys, read in that order. */
export function spendGuardFrom(
  orgId: string,
  keyIds: (string | null)[],
  nowMs: number,
  // deno-lint-ignore no-explicit-any
  e: Deno.KvEntryMaybe<any>[],
): SpendGuard {
  const periods = periodsOf(nowMs);
  const month = monthOf(periods);
  const ids = distinctKeys(keyIds);
  const settings: SpendSettings = { ...NO_SETTINGS, ...e[0].value };
  const orgCharged = e[1] as Deno.KvEntryMaybe<Deno.KvU64>;
  const orgSpent = Math.max(0, u64(orgCharged) - u64(e[2]));
  let orgAdded = 0;
  const byKey = new Map<string, KeyState>();
  let i = 3;
  for (const id of ids) {
    const limit: KeyLimit | null = e[i++].value;
    const state: KeyState = { limit, periods: new Map(), added: 0, requests: 0 };
    for (const p of periods) {
      state.periods.set(p, { charged: e[i++], refunded: u64(e[i++]) });
    }
    byKey.set(id, state);
  }
  const limitPeriod = (s: KeyState) =>
    s.limit?.limit_cents != null ? periodId(s.limit.limit_reset, nowMs) : null;
  const spentIn = (s: KeyState, p: string) => {
    const c = s.periods.get(p)!;
    return Math.max(0, u64(c.charged) - c.refunded) + s.added;
  };
  const budget = settings.monthly_budget_cents;

  return {
    settings,
    refusal(keyId, cost) {
      const s = keyId ? byKey.get(keyId) : undefined;
      const p = s && limitPeriod(s);
      if (s && p) {
        const spent = spentIn(s, p);
        if (spent + cost > s.limit!.limit_cents!) {
          const end = periodEnd(s.limit!.limit_reset, nowMs);
          return new KeyLimitExceeded(s.limit!.limit_cents!, spent, cost, end);
        }
      }
      if (budget !== null && orgSpent + orgAdded + cost > budget) {
        return new BudgetExceeded(budget, orgSpent + orgAdded, cost, periodEnd("monthly", nowMs)!);
      }
      return null;
    },
    take(keyId, cost) {
      orgAdded += cost;
      const s = keyId ? byKey.get(keyId) : undefined;
      if (!s) return;
      s.added += cost;
      s.requests++;
    },
    addMutations(a) {
      for (const [id, s] of byKey) {
        const limited = limitPeriod(s);
        for (const p of periods) {
          if (s.requests > 0) a.sum(keySpendKey(id, p, "requests"), BigInt(s.requests));
          if (s.added === 0) continue;
          const charged = s.periods.get(p)!.charged;
          if (p === limited) {
            a.set(charged.key, new Deno.KvU64(BigInt(u64(charged) + s.added)));
          } else a.sum(charged.key, BigInt(s.added));
        }
      }
      if (orgAdded === 0) return;
      if (budget !== null) {
        a.set(orgCharged.key, new Deno.KvU64(BigInt(u64(orgCharged) + orgAdded)));
      } else a.sum(orgSpendKey(orgId, month, "charged"), BigInt(orgAdded));
    },
  };
}
