import { define } from "../../../utils.ts";
import { requireRole } from "../../../lib/auth/roles.ts";
import { readForm } from "../../../lib/http/form.ts";
import { createCardSetup } from "../../../lib/billing/autotopup.ts";

/** Save a card for automatic top-up: a setup-mode Stripe Checkout Session, then 303 to Stripe. */
export const handler = define.handlers({
  async POST(ctx) {
    requireRole(ctx.state, "admin");
    await readForm(ctx.req);
    const { url } = await createCardSetup(ctx.state.services, {
      orgId: ctx.state.org!.id,
      userId: ctx.state.user!.id,
    });
    return ctx.redirect(url, 303);
  },
});
