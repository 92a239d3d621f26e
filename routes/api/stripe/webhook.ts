import { define } from "../../../utils.ts";
import { json } from "../../../lib/http/json.ts";
import { handleStripeWebhook } from "../../../lib/billing/webhook.ts";

/**
 * Stripe's webhook: the raw body is verified against STRIPE_WEBHOOK_SECRET before anything is
 * parsed (bad or missing signature: 400, nothing changes). CSRF-exempt in routes/_middleware.ts.
 * Any other failure is a 500, so Stripe redelivers; every event is applied at most once.
 */
export const handler = define.handlers({
  async POST(ctx) {
    const raw = await ctx.req.text();
    const outcome = await handleStripeWebhook(
      ctx.state.services,
      raw,
      ctx.req.headers.get("Stripe-Signature"),
    );
    return json({ received: true, action: outcome.action });
  },
});
