import { Head, page } from "fresh";
import { define } from "../../../utils.ts";
import { getBalance } from "../../../lib/db/ledger.ts";
import { formatCents } from "../../../components/format.ts";

/** Back from Stripe. Nothing is credited here: only Stripe's signed webhook credits. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    return page({ balanceCents: await getBalance(services.kv, org!.id) });
  },
});

export default define.page<typeof handler>(function Success({ data }) {
  return (
    <div class="narrow">
      <Head>
        <title>Payment received · Pipevideo</title>
      </Head>
      <p class="eyebrow">Billing</p>
      <h1>Thank you — payment received</h1>
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
