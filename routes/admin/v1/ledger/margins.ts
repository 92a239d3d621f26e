import { define } from "../../../../utils.ts";
import { json } from "../../../../lib/http/json.ts";
import { routeMargins } from "../../../../lib/generations/settlement.ts";

/**
 * GET: per provider route, our price next to what the provider reported it charged, worst
 * margin first: `{data: [{provider, upstream_model, reported_count, price_cents,
 * reported_cost_cents, margin_cents, over_price_count}]}`.
 */
export const handler = define.handlers({
  async GET(ctx) {
    return json({ data: await routeMargins(ctx.state.services.kv) });
  },
});
