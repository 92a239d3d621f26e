import { define } from "../../../utils.ts";
import { callerOf } from "../../../lib/api/auth.ts";
import { json } from "../../../lib/http/json.ts";
import { defaultSecret } from "../../../lib/webhooks/manage.ts";

/** The key's org default secret, which signs deliveries to a per-request `webhook_url`. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    return json({ secret: await defaultSecret(services, caller.orgId) });
  },
});
