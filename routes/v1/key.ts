import { define } from "../../utils.ts";
import { callerOf } from "../../lib/api/auth.ts";
import { json } from "../../lib/http/json.ts";
import { getApiKey } from "../../lib/db/apikeys.ts";
import { Unauthorized } from "../../lib/errors.ts";
import { describeKey } from "../../lib/spend/usage.ts";

/** The calling key: name, limit, spent and reset time, so a script can check its allowance. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const key = await getApiKey(services.kv, caller.keyId);
    if (!key) throw new Unauthorized();
    return json({ data: await describeKey(services.kv, key, services.now()) });
  },
});
