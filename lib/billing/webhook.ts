import type Stripe from "stripe";
import type { Services } from "../services.ts";
import { BadRequest } from "../errors.ts";
import { getOrg } from "../db/orgs.ts";
import { BILLING_CURRENCY, stripeClient, stripeCrypto } from "./stripe.ts";
import { orgOfPaymentIntent } from "../db/billing.ts";
import {
  applyChargeRefund,
  applyDisputeReinstatement,
  applyDisputeWithdrawal,
  creditPaidSession,
  saveChargeInfo,
} from "./store.ts";
import { creditAutoTopup, saveCardFromSetup } from "./autotopup.ts";

export type WebhookOutcome =
  | { action: "credited"; orgId: string; cents: number }
  | { action: "refunded"; orgId: string; cents: number; owed: number }
  | { action: "disputed"; orgId: string; cents: number; owed: number }
  | { action: "reinstated"; orgId: string; cents: number }
  | { action: "recorded" }
  | { action: "card_saved"; orgId: string }
  | { action: "ignored"; why: string };

/**
 * Verifies a Stripe webhook (raw body + Stripe-Signature against STRIPE_WEBHOOK_SECRET) and applies
 * it. A bad or missing signature throws BadRequest before anything is read or written. Unknown
 * event types are ignored. The amount credited always comes from the signed event.
 */
export async function handleStripeWebhook(
  services: Services,
  rawBody: string,
  signature: string | null,
): Promise<WebhookOutcome> {
  const { config } = services;
  const secret = config.STRIPE_WEBHOOK_SECRET;
  const stripe = stripeClient(config, services.fetch);
  if (!secret || !stripe) throw new BadRequest("Stripe webhooks are not configured here");
  if (!signature) throw new BadRequest("Missing Stripe-Signature header", null, "bad_signature");
  let event: Stripe.Event;
  try {
    event = await stripe.webhooks.constructEventAsync(
      rawBody,
      signature,
      secret,
      undefined,
      stripeCrypto,
    );
  } catch {
    throw new BadRequest("Invalid Stripe signature", null, "bad_signature");
  }
  // Validly signed but malformed: a 500 would make Stripe redeliver it for days; answer and log.
  const object = (event as { data?: { object?: unknown } }).data?.object;
  if (typeof object !== "object" || object === null) {
    services.log("warn", "stripe webhook without data.object", { event_id: event.id });
    return { action: "ignored", why: "event without data.object" };
  }
  const outcome = await applyStripeEvent(services, event);
  services.log("info", "stripe webhook", { event_id: event.id, type: event.type, ...outcome });
  return outcome;
}

/** Applies one verified event. Every branch is idempotent: Stripe delivers at least once. */
export async function applyStripeEvent(
  services: Services,
  event: Stripe.Event,
): Promise<WebhookOutcome> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      if (event.data.object.mode === "setup") return await onCardSetup(services, event.data.object);
      return await onSessionPaid(services, event.data.object);
    case "payment_intent.succeeded": {
      // Automatic top-ups (lib/billing/autotopup.ts); Checkout payments credit by their session.
      if (!event.data.object.metadata?.auto_topup) {
        return { action: "ignored", why: "not an automatic top-up" };
      }
      const r = await creditAutoTopup(services.kv, event.data.object, services.now());
      return r.credited
        ? { action: "credited", orgId: r.orgId!, cents: r.cents }
        : { action: "ignored", why: "top-up already credited or not ours" };
    }
    case "charge.succeeded":
    case "charge.updated": {
      const charge = event.data.object;
      const pi = idOf(charge.payment_intent);
      if (!pi) return { action: "ignored", why: "charge without payment intent" };
      await saveChargeInfo(services.kv, pi, {
        charge_id: charge.id,
        receipt_url: charge.receipt_url ?? null,
        amount_refunded: 0,
      });
      return { action: "recorded" };
    }
    case "charge.refunded":
      return await onChargeRefunded(services, event.data.object);
    case "charge.dispute.funds_withdrawn":
    case "charge.dispute.funds_reinstated":
      return await onDisputeFunds(services, event.type, event.data.object);
    default:
      return { action: "ignored", why: `event type ${event.type}` };
  }
}

async function onCardSetup(
  services: Services,
  session: Stripe.Checkout.Session,
): Promise<WebhookOutcome> {
  const stripe = stripeClient(services.config, services.fetch)!;
  const r = await saveCardFromSetup(services.kv, stripe, session, services.now());
  return r.saved
    ? { action: "card_saved", orgId: r.orgId! }
    : { action: "ignored", why: "setup session without an org or card" };
}

async function onSessionPaid(
  services: Services,
  session: Stripe.Checkout.Session,
): Promise<WebhookOutcome> {
  if (session.mode !== "payment") return { action: "ignored", why: "not a payment session" };
  if (session.payment_status !== "paid") {
    return { action: "ignored", why: `payment_status ${session.payment_status}` };
  }
  const orgId = session.metadata?.org_id ?? session.client_reference_id;
  if (!orgId || (session.client_reference_id && session.client_reference_id !== orgId)) {
    services.log("error", "stripe session without a consistent org", { session_id: session.id });
    return { action: "ignored", why: "no org on the session" };
  }
  if (!(await getOrg(services.kv, orgId))) {
    services.log("error", "stripe session for an unknown org", { session_id: session.id });
    return { action: "ignored", why: "unknown org" };
  }
  const cents = session.amount_total ?? 0;
  const currency = (session.currency ?? "").toLowerCase();
  if (currency !== BILLING_CURRENCY || !Number.isSafeInteger(cents) || cents <= 0) {
    services.log("error", "stripe session not creditable", { session_id: session.id, currency });
    return { action: "ignored", why: "amount or currency not creditable" };
  }
  const { credited } = await creditPaidSession(services.kv, {
    orgId,
    sessionId: session.id,
    amountCents: cents,
    currency,
    paymentIntent: idOf(session.payment_intent),
  }, services.now());
  return credited
    ? { action: "credited", orgId, cents }
    : { action: "ignored", why: "session already credited" };
}

async function onChargeRefunded(
  services: Services,
  charge: Stripe.Charge,
): Promise<WebhookOutcome> {
  const pi = idOf(charge.payment_intent);
  let orgId = pi ? await orgOfPaymentIntent(services.kv, pi) : null;
  if (!orgId && charge.metadata?.org_id && await getOrg(services.kv, charge.metadata.org_id)) {
    orgId = charge.metadata.org_id;
  }
  if (!orgId) {
    services.log("warn", "refund of a charge we did not credit", { charge_id: charge.id });
    return { action: "ignored", why: "charge not ours" };
  }
  if (pi) {
    await saveChargeInfo(services.kv, pi, {
      charge_id: charge.id,
      receipt_url: charge.receipt_url ?? null,
      amount_refunded: charge.amount_refunded,
    });
  }
  if ((charge.currency ?? "").toLowerCase() !== BILLING_CURRENCY) {
    return { action: "ignored", why: "currency" };
  }
  const r = await applyChargeRefund(services.kv, {
    orgId,
    chargeId: charge.id,
    amountRefunded: charge.amount_refunded,
    paymentIntent: pi,
  }, services.now());
  return r.refunded > 0
    ? { action: "refunded", orgId, cents: r.refunded, owed: r.owed }
    : { action: "ignored", why: "refund already applied" };
}

/**
 * A dispute moves money twice at most: funds_withdrawn takes the disputed amount back like a
 * refund (debt beyond the balance), funds_reinstated gives it back; each once per dispute id.
 */
async function onDisputeFunds(
  services: Services,
  type: "charge.dispute.funds_withdrawn" | "charge.dispute.funds_reinstated",
  dispute: Stripe.Dispute,
): Promise<WebhookOutcome> {
  const pi = idOf(dispute.payment_intent);
  let orgId = pi ? await orgOfPaymentIntent(services.kv, pi) : null;
  const charge = typeof dispute.charge === "object" ? dispute.charge : null;
  if (!orgId && charge?.metadata?.org_id && await getOrg(services.kv, charge.metadata.org_id)) {
    orgId = charge.metadata.org_id;
  }
  if (!orgId) {
    services.log("warn", "dispute of a charge we did not credit", { dispute_id: dispute.id });
    return { action: "ignored", why: "charge not ours" };
  }
  const cents = dispute.amount;
  if ((dispute.currency ?? "").toLowerCase() !== BILLING_CURRENCY) {
    services.log("error", "dispute not in our currency", { dispute_id: dispute.id });
    return { action: "ignored", why: "currency" };
  }
  if (!Number.isSafeInteger(cents) || cents <= 0) {
    return { action: "ignored", why: "dispute without an amount" };
  }
  const d = { orgId, disputeId: dispute.id, chargeId: idOf(dispute.charge), amountCents: cents };
  if (type === "charge.dispute.funds_withdrawn") {
    const r = await applyDisputeWithdrawal(services.kv, d, services.now());
    return r.refunded > 0
      ? { action: "disputed", orgId, cents: r.refunded, owed: r.owed }
      : { action: "ignored", why: "dispute already applied" };
  }
  const r = await applyDisputeReinstatement(services.kv, d, services.now());
  return r.credited > 0
    ? { action: "reinstated", orgId, cents: r.credited }
    : { action: "ignored", why: "nothing to reinstate" };
}

function idOf(v: string | { id: string } | null | undefined): string | null {
  if (!v) return null;
  return typeof v === "string" ? v : v.id;
}
