import { define } from "../utils.ts";
import { json } from "../lib/http/json.ts";

/** Liveness and readiness: answers 200 only when the KV database answers. */
export const handler = define.handlers({
  async GET(ctx) {
    try {
      await ctx.state.services.kv.get(["healthz"]);
      return json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
    } catch {
      return json({ status: "unavailable" }, { status: 503 });
    }
  },
});
