import { define } from "../../../utils.ts";
import { requireRole } from "../../../lib/auth/roles.ts";
import { NotFound } from "../../../lib/errors.ts";
import { readForm } from "../../../lib/http/form.ts";
import { billingMode } from "../../../lib/billing/stripe.ts";
import { addDevelopmentCredits, parseTopupAmount } from "../../../lib/billing/topup.ts";

/** Free credits for local development: 404 when Stripe is configured or in production. */
export const handler = define.handlers({
  async POST(ctx) {
    const { services, org } = ctx.state;
    if (billingMode(services.config) !== "development") throw new NotFound();
    requireRole(ctx.state, "admin");
    const cents = parseTopupAmount(services.config, await readForm(ctx.req));
    await addDevelopmentCredits(services, org!.id, cents);
    return ctx.redirect("/billing", 303);
  },
});
