import { define } from "../../../../utils.ts";
import { json } from "../../../../lib/http/json.ts";
import { verifyAllLedgers } from "../../../../lib/billing/ledger.ts";

/** GET: checks balance == sum(ledger) for every org: `{ok, orgs_checked, mismatches[]}`. */
export const handler = define.handlers({
  async GET(ctx) {
    return json(await verifyAllLedgers(ctx.state.services.kv));
  },
});
