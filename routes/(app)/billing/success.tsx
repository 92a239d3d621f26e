import { Head, page } from "fresh";
import { define } from "../../../utils.ts";
import { getBalance } from "../../../lib/db/ledger.ts";
import { formatCents } from "../../../lib/format.ts";
import { billingMode } from "../../../lib/billing/stripe.ts";

/** Back from Stripe. Nothing is credited here: only Stripe's signed webhook credits. */
export const handler = define.handlers<{ balanceCents: number }>({
  async GET(ctx) {
    const { services, org } = ctx.state;
    // Without Stripe nothing was paid: this page must not say otherwise.
    if (billingMode(services.config) !== "stripe") return ctx.redirect("/billing", 303);
    return page({ balanceCents: await getBalance(services.kv, org!.id) });
  },
});

export default define.page<typeof handler, { balanceCents: number }>(function Success({ data }) {
  return (
    <div class="narrow">
      <Head>
        <title>Payment received · Pipevideo</title>
      </Head>
      <p class="eyebrow">Billing</p>
      <h1>Thank you — confirming your payment</h1>
      <p class="lead">
        Your credits are added as soon as Stripe confirms the payment, usually within seconds. The
        balance is now{" "}
        {formatCents(data.balanceCents)}; reload the billing page if it has not changed yet.
      </p>
      <p>
        <a class="button primary" href="/billing">Back to billing</a>
      </p>
    </div>
  );
});
