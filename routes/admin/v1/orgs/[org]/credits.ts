import { define } from "../../../../../utils.ts";
import { json, readJson } from "../../../../../lib/http/json.ts";
import { adjustOrgCredits, CreditAdjustment } from "../../../../../lib/admin/credits.ts";

/**
 * Adds (positive) or takes (negative) credits with a ledger entry: `{amount_cents, reason}` ->
 * `{balance_cents}`. A debit larger than the balance is 402 and changes nothing (the balance is
 * unsigned, so it can never go below zero).
 */
export const handler = define.handlers({
  async POST(ctx) {
    const { kv, now } = ctx.state.services;
    const change = await readJson(ctx.req, CreditAdjustment);
    const balance = await adjustOrgCredits(kv, ctx.params.org, change, "admin_api", now());
    return json({ balance_cents: balance });
  },
});
