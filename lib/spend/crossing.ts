import type { Cents } from "../catalog.ts";
import { enqueueInAtomic } from "../jobs.ts";
import {
  type BalanceCrossing,
  crossingKey,
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

export interface DebitCrossing {
  orgId: string;
  settings: SpendSettings;
  /** The checked balance before the commit, its versionstamp, and the balance after it. */
  before: Cents;
  after: Cents;
  versionstamp: string | null;
  nowMs: number;
}

/** Adds the crossing's record and job to the debit's commit when it crosses the threshold. */
export function addBalanceCrossings(a: Deno.AtomicOperation, d: DebitCrossing): void {
  const t = d.settings.low_balance_cents;
  if (t === null || !(d.before >= t && d.after < t)) return;
  const id = `${d.orgId}.${d.versionstamp ?? "0"}`;
  const crossing: BalanceCrossing = {
    id,
    org_id: d.orgId,
    kind: "low_balance",
    balance_cents: d.after,
    threshold_cents: t,
    created_at: d.nowMs,
    mailed_at: null,
  };
  a.check({ key: crossingKey(id), versionstamp: null }).set(crossingKey(id), crossing)
    .set(orgCrossingKey(d.orgId, `${String(d.nowMs).padStart(15, "0")}.${id}`), id);
  enqueueInAtomic(a, { type: BALANCE_LOW_JOB, id });
}
