import type { Cents } from "../catalog/money.ts";
import {
  addDebitMutations,
  balanceKey,
  balanceOf,
  type LedgerEntry,
  ledgerKey,
  serializeForOrg,
} from "../db/ledger.ts";
import { newId } from "../ids.ts";
import {
  type ChargeInfo,
  chargeInfoKey,
  type ChargeRefunded,
  chargeRefundedKey,
  type Debt,
  debtKey,
  disputeKey,
  type DisputeRecord,
  getChargeInfos,
  listPaymentRecords,
  type Payment,
  paymentIntentKey,
  paymentKey,
  type SessionCredited,
  sessionCreditedKey,
} from "../db/billing.ts";

/**
 * The money movements Stripe causes: a paid Checkout Session credits the org exactly once, a
 * refund takes the refunded amount back exactly once. The records and their key shapes are in
 * lib/db/billing.ts.
 *
 * Refund debt, decided: the balance is a Deno.KvU64 and can never be negative. When a refund is
 * larger than the balance, we take what is there (an `adjustment` entry) and record the rest as
 * the org's explicit refund debt (`billing_debt`), which the billing page shows. The next top-up
 * settles the debt first, in its own commit: a `topup` entry for the full payment and an
 * `adjustment` entry for the part that pays the debt. Every balance change still has its ledger
 * entry, so balance == sum(ledger) holds throughout; the debt is outside the balance.
 */

const MAX_ATTEMPTS = 100;

export interface PaidSession {
  orgId: string;
  sessionId: string;
  amountCents: Cents;
  currency: string;
  paymentIntent: string | null;
}

/**
 * Credits a paid Checkout Session exactly once (keyed by the session id), records the payment and
 * settles any refund debt first. Returns whether this call credited.
 */
export async function creditPaidSession(
  kv: Deno.Kv,
  p: PaidSession,
  nowMs: number,
): Promise<{ credited: boolean; settledDebt: Cents }> {
  assertPositiveCents(p.amountCents);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [done, debt] = await kv.getMany<[SessionCredited, Debt]>([
      sessionCreditedKey(p.sessionId),
      debtKey(p.orgId),
    ]);
    if (done.value !== null) return { credited: false, settledDebt: 0 };
    const owed = debt.value?.cents ?? 0;
    const settle = Math.min(owed, p.amountCents);
    const topup: LedgerEntry = {
      id: newId("led", nowMs),
      org_id: p.orgId,
      kind: "topup",
      amount_cents: p.amountCents,
      reference: p.sessionId,
      reason: "Stripe Checkout payment",
      created_at: nowMs,
    };
    const payment: Payment = {
      id: topup.id,
      org_id: p.orgId,
      session_id: p.sessionId,
      payment_intent: p.paymentIntent,
      amount_cents: p.amountCents,
      currency: p.currency,
      created_at: nowMs,
    };
    const atomic = kv.atomic()
      .check(done)
      .check(debt)
      .set(sessionCreditedKey(p.sessionId), { org_id: p.orgId, ledger_id: topup.id })
      .set(ledgerKey(p.orgId, topup.id), topup)
      .set(paymentKey(p.orgId, payment.id), payment);
    if (p.paymentIntent) {
      atomic.set(paymentIntentKey(p.paymentIntent), { org_id: p.orgId, payment_id: payment.id });
    }
    addDebtSettlement(atomic, p.orgId, owed, settle, `debt:${p.sessionId}`, nowMs);
    if (p.amountCents - settle > 0) atomic.sum(balanceKey(p.orgId), BigInt(p.amountCents - settle));
    if ((await atomic.commit()).ok) return { credited: true, settledDebt: settle };
  }
  throw new Error(`creditPaidSession: too much contention on org ${p.orgId}`);
}

/** Remembers a charge's receipt URL and refunded total (never lowering a known refund total). */
export async function saveChargeInfo(kv: Deno.Kv, pi: string, info: ChargeInfo): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cur = await kv.get<ChargeInfo>(chargeInfoKey(pi));
    const merged: ChargeInfo = {
      charge_id: info.charge_id,
      receipt_url: info.receipt_url ?? cur.value?.receipt_url ?? null,
      amount_refunded: Math.max(info.amount_refunded, cur.value?.amount_refunded ?? 0),
    };
    if ((await kv.atomic().check(cur).set(chargeInfoKey(pi), merged).commit()).ok) return;
  }
  throw new Error(`saveChargeInfo: too much contention on ${pi}`);
}

/** Test seams: runs after a money movement has read its entries and before it commits. */
export interface StoreHooks {
  beforeCommit?: (attempt: number) => Promise<void> | void;
}

export interface RefundResult {
  /** Cents newly refunded by this event (0 when it was already applied). */
  refunded: Cents;
  /** Of those, taken from the balance. */
  debited: Cents;
  /** Of those, recorded as refund debt because the balance was short. */
  owed: Cents;
}

/**
 * Applies a charge's cumulative `amount_refunded` exactly once: we store how much of each charge
 * we have already taken back and only ever take the difference, so redelivered, repeated or
 * out-of-order refund events (and several partial refunds) each count once. Runs in the org's
 * debit chain because it checks and sets the balance, like a generation charge.
 */
export function applyChargeRefund(
  kv: Deno.Kv,
  r: { orgId: string; chargeId: string; amountRefunded: Cents; paymentIntent: string | null },
  nowMs: number,
  hooks: StoreHooks = {},
): Promise<RefundResult> {
  return serializeForOrg(kv, r.orgId, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [done, bal, debt] = await kv.getMany<[ChargeRefunded, Deno.KvU64, Debt]>([
        chargeRefundedKey(r.chargeId),
        balanceKey(r.orgId),
        debtKey(r.orgId),
      ]);
      const delta = r.amountRefunded - (done.value?.cents ?? 0);
      if (delta <= 0) return { refunded: 0, debited: 0, owed: 0 };
      const record: ChargeRefunded = {
        cents: r.amountRefunded,
        org_id: r.orgId,
        updated_at: nowMs,
      };
      const atomic = kv.atomic().check(done).set(chargeRefundedKey(r.chargeId), record);
      // Checks the balance even when nothing is taken from it: a top-up committed after our read
      // (sum(), outside this chain) must pay the refund instead of staying spendable while all of
      // it becomes debt. On a conflict we read again and retry.
      const { take, short } = addTakeBack(atomic, r.orgId, bal, debt, delta, {
        reason: "Stripe refund",
        reference: `${r.chargeId}:${r.amountRefunded}`,
      }, nowMs);
      await hooks.beforeCommit?.(attempt);
      if ((await atomic.commit()).ok) return { refunded: delta, debited: take, owed: short };
    }
    throw new Error(`applyChargeRefund: too much contention on org ${r.orgId}`);
  });
}

export interface Dispute {
  orgId: string;
  disputeId: string;
  chargeId: string | null;
  amountCents: Cents;
}

/**
 * A dispute's funds were withdrawn (charge.dispute.funds_withdrawn): like a refund of the disputed
 * amount, taken from the balance and, beyond it, recorded as refund debt. At most once per dispute
 * id, and not at all when the funds were already reinstated (an out-of-order delivery). Runs in
 * the org's debit chain because it checks and sets the balance.
 */
export function applyDisputeWithdrawal(
  kv: Deno.Kv,
  d: Dispute,
  nowMs: number,
  hooks: StoreHooks = {},
): Promise<RefundResult> {
  assertPositiveCents(d.amountCents);
  return serializeForOrg(kv, d.orgId, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [rec, bal, debt] = await kv.getMany<[DisputeRecord, Deno.KvU64, Debt]>([
        disputeKey(d.disputeId),
        balanceKey(d.orgId),
        debtKey(d.orgId),
      ]);
      if (rec.value?.withdrawn || rec.value?.reinstated) {
        return { refunded: 0, debited: 0, owed: 0 };
      }
      const atomic = kv.atomic().check(rec);
      const { take, short } = addTakeBack(atomic, d.orgId, bal, debt, d.amountCents, {
        reason: "Stripe dispute: funds withdrawn",
        reference: `${d.disputeId}:withdrawn`,
      }, nowMs);
      atomic.set(
        disputeKey(d.disputeId),
        {
          ...disputeRecord(d),
          withdrawn: { debited: take, owed: short, at: nowMs },
        } satisfies DisputeRecord,
      );
      await hooks.beforeCommit?.(attempt);
      if ((await atomic.commit()).ok) {
        return { refunded: d.amountCents, debited: take, owed: short };
      }
    }
    throw new Error(`applyDisputeWithdrawal: too much contention on org ${d.orgId}`);
  });
}

/**
 * A dispute's funds were reinstated (charge.dispute.funds_reinstated): what its withdrawal took is
 * credited back once, settling any refund debt first like a top-up. A reinstatement that arrives
 * before its withdrawal is remembered, so the late withdrawal takes nothing. Returns the cents
 * credited back (0 when there was nothing to give back or it was already given).
 */
export async function applyDisputeReinstatement(
  kv: Deno.Kv,
  d: Dispute,
  nowMs: number,
): Promise<{ credited: Cents; settledDebt: Cents }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [rec, debt] = await kv.getMany<[DisputeRecord, Debt]>([
      disputeKey(d.disputeId),
      debtKey(d.orgId),
    ]);
    if (rec.value?.reinstated) return { credited: 0, settledDebt: 0 };
    const withdrawn = rec.value?.withdrawn;
    const back = withdrawn ? withdrawn.debited + withdrawn.owed : 0;
    const atomic = kv.atomic().check(rec).check(debt).set(
      disputeKey(d.disputeId),
      {
        ...(rec.value ?? disputeRecord(d)),
        reinstated: { at: nowMs },
      } satisfies DisputeRecord,
    );
    let settle = 0;
    if (back > 0) {
      const orgId = rec.value!.org_id;
      const credit: LedgerEntry = {
        id: newId("led", nowMs),
        org_id: orgId,
        kind: "adjustment",
        amount_cents: back,
        reference: `${d.disputeId}:reinstated`,
        reason: "Stripe dispute: funds reinstated",
        created_at: nowMs,
      };
      atomic.set(ledgerKey(orgId, credit.id), credit);
      const owed = debt.value?.cents ?? 0;
      settle = Math.min(owed, back);
      addDebtSettlement(atomic, orgId, owed, settle, `debt:${d.disputeId}`, nowMs);
      if (back - settle > 0) atomic.sum(balanceKey(orgId), BigInt(back - settle));
    }
    if ((await atomic.commit()).ok) return { credited: back, settledDebt: settle };
  }
  throw new Error(`applyDisputeReinstatement: too much contention on org ${d.orgId}`);
}

function disputeRecord(d: Dispute): DisputeRecord {
  return {
    dispute_id: d.disputeId,
    org_id: d.orgId,
    charge_id: d.chargeId,
    amount_cents: d.amountCents,
  };
}

/**
 * Takes `cents` back from an org: as much as the balance read holds (a checked `adjustment`
 * debit), the rest added to its refund debt. Checks the balance and debt entries whether or not
 * anything is taken, so a credit that lands after the read makes the commit retry.
 */
function addTakeBack(
  atomic: Deno.AtomicOperation,
  orgId: string,
  bal: Deno.KvEntryMaybe<Deno.KvU64>,
  debt: Deno.KvEntryMaybe<Debt>,
  cents: Cents,
  what: { reason: string; reference: string },
  nowMs: number,
): { take: Cents; short: Cents } {
  const take = Math.min(balanceOf(bal), cents);
  const short = cents - take;
  atomic.check(debt);
  if (take > 0) {
    addDebitMutations(atomic, orgId, bal, take, { kind: "adjustment", ...what }, nowMs);
  } else atomic.check(bal);
  if (short > 0) {
    atomic.set(
      debtKey(orgId),
      {
        cents: (debt.value?.cents ?? 0) + short,
        updated_at: nowMs,
      } satisfies Debt,
    );
  }
  return { take, short };
}

/**
 * Pays `settle` cents of an org's refund debt (`owed`) out of money arriving in the same commit:
 * an `adjustment` entry for the part that pays the debt, and the debt lowered or cleared. The
 * caller credits the arriving amount minus `settle` to the balance.
 */
function addDebtSettlement(
  atomic: Deno.AtomicOperation,
  orgId: string,
  owed: Cents,
  settle: Cents,
  reference: string,
  nowMs: number,
): void {
  if (settle <= 0) return;
  const adj: LedgerEntry = {
    id: newId("led", nowMs),
    org_id: orgId,
    kind: "adjustment",
    amount_cents: -settle,
    reference,
    reason: "Settles refund debt",
    created_at: nowMs,
  };
  atomic.set(ledgerKey(orgId, adj.id), adj);
  if (owed - settle > 0) {
    atomic.set(debtKey(orgId), { cents: owed - settle, updated_at: nowMs } satisfies Debt);
  } else atomic.delete(debtKey(orgId));
}

function assertPositiveCents(cents: number): void {
  if (!Number.isSafeInteger(cents) || cents <= 0) {
    throw new RangeError(`amount must be a positive integer of cents, got ${cents}`);
  }
}

export interface PaymentView extends Payment {
  receipt_url: string | null;
  refunded_cents: Cents;
}

/** The org's payments, newest first, with receipt links and refunded amounts when known. */
export async function listPayments(
  kv: Deno.Kv,
  orgId: string,
  limit = 20,
): Promise<PaymentView[]> {
  const payments = await listPaymentRecords(kv, orgId, limit);
  const infos = await getChargeInfos(kv, payments.map((p) => p.payment_intent));
  return payments.map((p, i) => ({
    ...p,
    receipt_url: infos[i]?.receipt_url ?? null,
    refunded_cents: infos[i]?.amount_refunded ?? 0,
  }));
}
