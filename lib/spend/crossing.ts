import type { Cents } from "../catalog/money.ts";
import { enqueueInAtomic } from "../jobs.ts";
import {
  type AutoTopup,
  autoTopupKey,
  type BalanceCrossing,
  crossingKey,
  orgAutoTopupKey,
  orgCrossingKey,
  type SpendSettings,
} from "../db/spend.ts";

/**
 * Low-balance alerts. A charge commit whose checked balance goes from at or above the org's
 * threshold to below it is a crossing: it writes a crossing record and a job in that same commit.
 * Debits of an org are serialized by the balance check, so each crossing is seen by exactly one
 * commit however many race; a later credit above the threshold re-arms it without any state.
 * The job sends the `balance.low` webhook event (fanned out once per crossing) and one email to
 * the org's admins.
 */

export const BALANCE_LOW = "balance.low";
export const BALANCE_LOW_JOB = "spend.balance_low";
export const AUTO_TOPUP_JOB = "spend.auto_topup";

export interface DebitCrossing {
  orgId: string;
  settings: SpendSettings;
  /** The checked balance before the commit, its versionstamp, and the balance after it. */
  before: Cents;
  after: Cents;
  versionstamp: string | null;
  nowMs: number;
}

const crosses = (d: DebitCrossing, t: Cents | null): t is Cents =>
  t !== null && d.before >= t && d.after < t;

/**
 * Adds to the debit's commit what its crossings owe: the low-balance alert and the automatic
 * top-up, each a record and a job. Their ids are derived from the balance state the debit was
 * checked against, so a crossing has one id (the top-up's Stripe idempotency key comes from it),
 * and no two commits can write one: only one commit checked against that balance state lands.
 */
export function addBalanceCrossings(a: Deno.AtomicOperation, d: DebitCrossing): void {
  const base = `${d.orgId}.${d.versionstamp ?? "0"}`;
  const sortable = `${String(d.nowMs).padStart(15, "0")}.${base}`;
  const s = d.settings;
  if (crosses(d, s.auto_topup_below_cents) && s.auto_topup_amount_cents) {
    const topup: AutoTopup = {
      id: base,
      org_id: d.orgId,
      amount_cents: s.auto_topup_amount_cents,
      threshold_cents: s.auto_topup_below_cents,
      balance_cents: d.after,
      status: "pending",
      payment_intent: null,
      error: null,
      created_at: d.nowMs,
      updated_at: d.nowMs,
    };
    a.set(autoTopupKey(base), topup)
      .set(orgAutoTopupKey(d.orgId, sortable), base);
    enqueueInAtomic(a, { type: AUTO_TOPUP_JOB, id: base });
  }
  const t = d.settings.low_balance_cents;
  if (!crosses(d, t)) return;
  const id = base;
  const crossing: BalanceCrossing = {
    id,
    org_id: d.orgId,
    kind: "low_balance",
    balance_cents: d.after,
    threshold_cents: t,
    created_at: d.nowMs,
    mailed_at: null,
  };
  a.set(crossingKey(id), crossing)
    .set(orgCrossingKey(d.orgId, sortable), id);
  enqueueInAtomic(a, { type: BALANCE_LOW_JOB, id });
}
