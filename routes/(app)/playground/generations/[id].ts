import { define } from "../../../../utils.ts";
import { json } from "../../../../lib/http/json.ts";
import { getGeneration, toApiGeneration } from "../../../../lib/generations/service.ts";
import { getBalance } from "../../../../lib/db/ledger.ts";

/**
 * The playground polls this every second: the API's generation shape for the current org, plus
 * `video_path`, the signed video link on this origin (the page's CSP allows same-origin media).
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const g = await getGeneration(services.kv, org!.id, ctx.params.id);
    const { publicUrl, secretKey } = services.config;
    const api = await toApiGeneration(g, { publicUrl, secretKey, nowMs: services.now() });
    const url = api.output_url ? new URL(api.output_url) : null;
    // The balance moves again when the generation ends (settled or refunded): the header follows.
    const balance_cents = await getBalance(services.kv, org!.id);
    return json({ ...api, video_path: url ? url.pathname + url.search : null, balance_cents });
  },
});
