import type { Cents } from "../catalog/money.ts";
import { type LimitReset, periodsOf } from "./period.ts";

/**
 * Spend counters and an org's spend settings. Counters are Deno.KvU64 that only grow:
 * `charged` moves at submission (in the charge's commit), `refunded` in the commit that refunds,
 * so spent = charged − refunded and a refund never needs to read. Per key they are kept for every
 * period (all time, the UTC day, week and month), so changing a key's reset period takes effect
 * on counters that already exist.
 */

export type Counter = "charged" | "refunded" | "requests";

export const keySpendKey = (keyId: string, period: string, c: Counter): Deno.KvKey => [
  "key_spend",
  keyId,
  period,
  c,
];
export const orgSpendKey = (orgId: string, period: string, c: Counter): Deno.KvKey => [
  "org_spend",
  orgId,
  period,
  c,
];
export const spendSettingsKey = (orgId: string): Deno.KvKey => ["spend_settings", orgId];

/** Org-wide spend controls (all optional; null = off). */
export interface SpendSettings {
  /** Cap on generation spend per UTC calendar month. */
  monthly_budget_cents: Cents | null;
  /** A debit that takes the balance below this fires one `balance.low` alert. */
  low_balance_cents: Cents | null;
  /** Automatic top-up (needs a saved card): when a debit takes the balance below this… */
  auto_topup_below_cents: Cents | null;
  /** …charge the card this much, at most `auto_topup_daily_cap` times per UTC day. */
  auto_topup_amount_cents: Cents | null;
  auto_topup_daily_cap: number;
  /** Why auto top-up was turned off by itself (a declined card), until an admin turns it on. */
  auto_topup_disabled_reason: string | null;
  updated_at: number;
}

export const NO_SETTINGS: SpendSettings = {
  monthly_budget_cents: null,
  low_balance_cents: null,
  auto_topup_below_cents: null,
  auto_topup_amount_cents: null,
  auto_topup_daily_cap: 3,
  auto_topup_disabled_reason: null,
  updated_at: 0,
};

export const u64 = (e: Deno.KvEntryMaybe<Deno.KvU64>): number =>
  e.value === null ? 0 : Number(e.value.value);

export async function getSpendSettings(kv: Deno.Kv, orgId: string): Promise<SpendSettings> {
  return { ...NO_SETTINGS, ...(await kv.get<SpendSettings>(spendSettingsKey(orgId))).value };
}

export async function setSpendSettings(
  kv: Deno.Kv,
  orgId: string,
  patch: Partial<Omit<SpendSettings, "updated_at">>,
  nowMs: number,
): Promise<SpendSettings> {
  for (;;) {
    const cur = await kv.get<SpendSettings>(spendSettingsKey(orgId));
    const next = { ...NO_SETTINGS, ...cur.value, ...patch, updated_at: nowMs };
    if ((await kv.atomic().check(cur).set(cur.key, next).commit()).ok) return next;
  }
}

/** Spent cents (charged − refunded, never below 0) and requests of a key in one period. */
export interface PeriodUsage {
  spent_cents: Cents;
  requests: number;
}

export async function getKeyPeriodUsage(
  kv: Deno.Kv,
  keyId: string,
  period: string,
): Promise<PeriodUsage> {
  const [c, r, n] = await kv.getMany<Deno.KvU64[]>([
    keySpendKey(keyId, period, "charged"),
    keySpendKey(keyId, period, "refunded"),
    keySpendKey(keyId, period, "requests"),
  ]);
  return { spent_cents: Math.max(0, u64(c) - u64(r)), requests: u64(n) };
}

export async function getOrgMonthSpent(kv: Deno.Kv, orgId: string, month: string) {
  const [c, r] = await kv.getMany<Deno.KvU64[]>([
    orgSpendKey(orgId, month, "charged"),
    orgSpendKey(orgId, month, "refunded"),
  ]);
  return Math.max(0, u64(c) - u64(r));
}

/**
 * Gives back the allowance of a refunded charge, in the refund's own commit (so exactly once):
 * to every period of the key and the org month the charge was made in (`chargedAtMs`).
 */
export function addSpendRefundMutations(
  a: Deno.AtomicOperation,
  g: { org_id: string; api_key_id: string | null; created_at: number },
  cents: Cents,
): void {
  if (cents <= 0) return;
  const periods = periodsOf(g.created_at);
  if (g.api_key_id) {
    for (const p of periods) a.sum(keySpendKey(g.api_key_id, p, "refunded"), BigInt(cents));
  }
  a.sum(orgSpendKey(g.org_id, monthOf(periods), "refunded"), BigInt(cents));
}

/** The month id among periodsOf()'s ids. */
export function monthOf(periods: string[]): string {
  return periods.find((p) => p.startsWith("m"))!;
}

export type { LimitReset };

/**
 * A debit that took the balance below a threshold, recorded in that debit's commit. Its id is
 * derived from the balance state the debit was checked against, so it names one crossing.
 */
export interface BalanceCrossing {
  id: string;
  org_id: string;
  kind: "low_balance";
  balance_cents: Cents;
  threshold_cents: Cents;
  created_at: number;
  /** Set when the admins' email is being (or was) sent. */
  mailed_at: number | null;
  /** Whether it alerts (email and `balance.low`), decided once by its job; absent until then. */
  alerted?: boolean;
}

/**
 * The org's last low-balance alert and the count of its UTC day: ["balance_alert", orgId].
 * `alerted_at` is the alerting crossing's time.
 */
export interface BalanceAlertState {
  alerted_at: number;
  threshold_cents: Cents;
  day: number; // days since the epoch, UTC
  count: number;
}

export const balanceAlertKey = (orgId: string): Deno.KvKey => ["balance_alert", orgId];

export const crossingKey = (id: string): Deno.KvKey => ["balance_crossing", id];
export const orgCrossingKey = (orgId: string, id: string): Deno.KvKey => [
  "org_balance_crossings",
  orgId,
  id,
];

/** The org's crossings, newest first. */
export async function listCrossings(kv: Deno.Kv, orgId: string, limit = 20) {
  const ids: string[] = [];
  for await (
    const e of kv.list<string>({ prefix: ["org_balance_crossings", orgId] }, {
      reverse: true,
      limit,
    })
  ) ids.push(e.value);
  const out: BalanceCrossing[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const es = await kv.getMany<BalanceCrossing[]>(ids.slice(i, i + 10).map(crossingKey));
    for (const e of es) if (e.value) out.push(e.value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Automatic top-up

/** The card saved through Checkout in setup mode, charged off-session. */
export interface SavedCard {
  customer_id: string;
  payment_method_id: string;
  brand: string | null;
  last4: string | null;
  saved_at: number;
}

export type TopupStatus =
  | "pending" // owed by a crossing, not yet sent to Stripe
  | "charging" // counted against the day's cap, PaymentIntent being created
  | "submitted" // Stripe accepted it; credited when the webhook says it succeeded
  | "succeeded"
  | "declined"
  | "requires_action" // the bank wants the cardholder (SCA): reported, not retried
  | "capped"
  | "skipped";

/** One automatic top-up, created by the debit that crossed the threshold. */
export interface AutoTopup {
  id: string;
  org_id: string;
  amount_cents: Cents;
  threshold_cents: Cents;
  balance_cents: Cents;
  status: TopupStatus;
  payment_intent: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export const savedCardKey = (orgId: string): Deno.KvKey => ["auto_topup_card", orgId];
export const autoTopupKey = (id: string): Deno.KvKey => ["auto_topup", id];
export const orgAutoTopupKey = (orgId: string, sortable: string): Deno.KvKey => [
  "org_auto_topups",
  orgId,
  sortable,
];
export const autoTopupDayKey = (orgId: string, day: string): Deno.KvKey => [
  "auto_topup_day",
  orgId,
  day,
];

export async function getSavedCard(kv: Deno.Kv, orgId: string): Promise<SavedCard | null> {
  return (await kv.get<SavedCard>(savedCardKey(orgId))).value;
}

/** The org's automatic top-ups, newest first. */
export async function listAutoTopups(kv: Deno.Kv, orgId: string, limit = 20) {
  const ids: string[] = [];
  const iter = kv.list<string>({ prefix: ["org_auto_topups", orgId] }, { reverse: true, limit });
  for await (const e of iter) ids.push(e.value);
  const out: AutoTopup[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const es = await kv.getMany<AutoTopup[]>(ids.slice(i, i + 10).map(autoTopupKey));
    for (const e of es) if (e.value) out.push(e.value);
  }
  return out;
}
