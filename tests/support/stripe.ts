/** Small factories for billing tests: Stripe-shaped events and signed webhook deliveries. */
import Stripe from "stripe";
import { stripeCrypto } from "../../lib/billing/stripe.ts";

export const TEST_WEBHOOK_SECRET = "whsec_test_0123456789abcdef";
export const TEST_STRIPE_KEY = "sk_test_pipevideo_0123456789";

/** The config that points the app's Stripe client at a stand-in on 127.0.0.1:`port`. */
export function stripeTestEnv(port: number): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_HOST: "127.0.0.1",
    STRIPE_API_PORT: String(port),
    STRIPE_API_PROTOCOL: "http",
  };
}

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(++n).toString(36)}`;

export function sessionEvent(
  orgId: string,
  opts: {
    type?: "checkout.session.completed" | "checkout.session.async_payment_succeeded";
    sessionId?: string;
    amount?: number;
    paymentStatus?: "paid" | "unpaid" | "no_payment_required";
    paymentIntent?: string;
    currency?: string;
  } = {},
) {
  return {
    id: `evt_${uniq()}`,
    object: "event",
    type: opts.type ?? "checkout.session.completed",
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: opts.sessionId ?? `cs_test_${uniq()}`,
        object: "checkout.session",
        mode: "payment",
        amount_total: opts.amount ?? 2_500,
        currency: opts.currency ?? "usd",
        payment_status: opts.paymentStatus ?? "paid",
        client_reference_id: orgId,
        metadata: { org_id: orgId },
        payment_intent: opts.paymentIntent ?? `pi_${uniq()}`,
      },
    },
  };
}

export function chargeRefundedEvent(
  opts: { paymentIntent: string; chargeId?: string; amount: number; refunded: number },
) {
  return {
    id: `evt_${uniq()}`,
    object: "event",
    type: "charge.refunded",
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: opts.chargeId ?? `ch_${opts.paymentIntent.slice(3)}`,
        object: "charge",
        amount: opts.amount,
        amount_refunded: opts.refunded,
        currency: "usd",
        payment_intent: opts.paymentIntent,
        receipt_url: `https://pay.stripe.com/receipts/${opts.paymentIntent}`,
        metadata: {},
      },
    },
  };
}

export function disputeEvent(
  type: "charge.dispute.funds_withdrawn" | "charge.dispute.funds_reinstated",
  opts: { paymentIntent: string; disputeId: string; amount: number; currency?: string },
) {
  return {
    id: `evt_${uniq()}`,
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: opts.disputeId,
        object: "dispute",
        amount: opts.amount,
        currency: opts.currency ?? "usd",
        charge: `ch_${opts.paymentIntent.slice(3)}`,
        payment_intent: opts.paymentIntent,
        reason: "fraudulent",
        status: type === "charge.dispute.funds_withdrawn" ? "needs_response" : "won",
        metadata: {},
      },
    },
  };
}

/** A body and the Stripe-Signature header Stripe would send, made by the SDK itself. */
export async function signed(
  event: unknown,
  secret = TEST_WEBHOOK_SECRET,
): Promise<{ body: string; signature: string }> {
  const body = JSON.stringify(event);
  const stripe = new Stripe(TEST_STRIPE_KEY, { httpClient: Stripe.createFetchHttpClient() });
  const signature = await stripe.webhooks.generateTestHeaderStringAsync({
    payload: body,
    secret,
    cryptoProvider: stripeCrypto,
  });
  return { body, signature };
}
