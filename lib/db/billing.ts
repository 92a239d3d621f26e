import type { Cents } from "../catalog/money.ts";
import { balanceKey, type LedgerEntry, ledgerKey } from "./ledger.ts";

/**
 * Billing's records in Deno KV: every key shape of the billing area lives here (DESIGN.md, "one
 * module owns every key shape"), with the raw lists billing needs. The money movements that use
 * these keys are in lib/billing/store.ts; balances and ledger entries belong to ./ledger.ts.
 */

/** One successful Stripe payment, for the payment history. */
export interface Payment {
  id: string; // the topup ledger entry id (time-ordered)
  org_id: string;
  session_id: string;
  payment_intent: string | null;
  amount_cents: Cents;
  currency: string;
  created_at: number; // ms, when we credited it
}

/** What charge events tell us about a payment intent's charge. */
export interface ChargeInfo {
  charge_id: string;
  receipt_url: string | null;
  amount_refunded: Cents;
}

/** An org's refund debt: refunded money that its balance could not cover. */
export interface Debt {
  cents: Cents;
  updated_at: number; // ms
}

/** Marks a Checkout Session as credited (created in the crediting commit). */
export interface SessionCredited {
  org_id: string;
  ledger_id: string;
}

/** How much of one charge we have already taken back for refunds (cumulative). */
export interface ChargeRefunded {
  cents: Cents;
  org_id: string;
  updated_at: number; // ms
}

/** A dispute's money movements: each happens at most once per dispute id. */
export interface DisputeRecord {
  dispute_id: string;
  org_id: string;
  charge_id: string | null;
  amount_cents: Cents;
  /** Set once funds_withdrawn was applied: what came off the balance and what became debt. */
  withdrawn?: { debited: Cents; owed: Cents; at: number };
  /** Set once funds_reinstated was applied. */
  reinstated?: { at: number };
}

export const sessionCreditedKey = (sessionId: string): Deno.KvKey => ["stripe_session", sessionId];
const paymentsOf = (orgId: string): Deno.KvKey => ["billing_payments", orgId];
export const paymentKey = (orgId: string, id: string): Deno.KvKey => [...paymentsOf(orgId), id];
export const paymentIntentKey = (pi: string): Deno.KvKey => ["stripe_payment_intent", pi];
export const chargeInfoKey = (pi: string): Deno.KvKey => ["stripe_charge_info", pi];
export const chargeRefundedKey = (chargeId: string): Deno.KvKey => [
  "stripe_charge_refunded",
  chargeId,
];
export const disputeKey = (disputeId: string): Deno.KvKey => ["stripe_dispute", disputeId];
export const debtKey = (orgId: string): Deno.KvKey => ["billing_debt", orgId];

export async function getDebt(kv: Deno.Kv, orgId: string): Promise<Cents> {
  return (await kv.get<Debt>(debtKey(orgId))).value?.cents ?? 0;
}

/** The org a payment intent paid for, if we credited it. */
export async function orgOfPaymentIntent(kv: Deno.Kv, pi: string): Promise<string | null> {
  return (await kv.get<{ org_id: string }>(paymentIntentKey(pi))).value?.org_id ?? null;
}

/** The org's payments, newest first. */
export async function listPaymentRecords(
  kv: Deno.Kv,
  orgId: string,
  limit: number,
): Promise<Payment[]> {
  const payments: Payment[] = [];
  const iter = kv.list<Payment>({ prefix: paymentsOf(orgId) }, { reverse: true, limit });
  for await (const e of iter) payments.push(e.value);
  return payments;
}

/** Charge info for several payment intents at once (null where none is known). */
export async function getChargeInfos(
  kv: Deno.Kv,
  paymentIntents: (string | null)[],
): Promise<(ChargeInfo | null)[]> {
  return await Promise.all(
    paymentIntents.map(async (pi) =>
      pi ? (await kv.get<ChargeInfo>(chargeInfoKey(pi))).value : null
    ),
  );
}

// The prefixes of ./ledger.ts's key shapes, derived from them so the two cannot drift apart.
const ALL_BALANCES: Deno.KvKey = balanceKey("").slice(0, 1);
const ALL_LEDGERS: Deno.KvKey = ledgerKey("", "").slice(0, 1);

/** Every org's stored balance, in one pass over the balances. */
export async function allBalances(kv: Deno.Kv): Promise<Map<string, Cents>> {
  const balances = new Map<string, Cents>();
  for await (const e of kv.list<Deno.KvU64>({ prefix: ALL_BALANCES })) {
    balances.set(String(e.key[1]), Number(e.value.value));
  }
  return balances;
}

/** Every org's sum of ledger entries, in one pass over all ledgers. */
export async function allLedgerSums(kv: Deno.Kv): Promise<Map<string, Cents>> {
  const sums = new Map<string, Cents>();
  for await (const e of kv.list<LedgerEntry>({ prefix: ALL_LEDGERS })) {
    const org = String(e.key[1]);
    sums.set(org, (sums.get(org) ?? 0) + e.value.amount_cents);
  }
  return sums;
}
