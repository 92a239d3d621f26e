import { define } from "../../utils.ts";
import { callerOf } from "../../lib/api/auth.ts";
import { json } from "../../lib/http/json.ts";
import { getUsage } from "../../lib/generations/service.ts";

/** The org's balance, totals, daily usage and recent requests (compat). */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    return json(await getUsage(services.kv, caller.orgId, services.now()));
  },
});
