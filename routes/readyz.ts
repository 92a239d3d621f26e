import { define } from "../utils.ts";
import { json } from "../lib/http/json.ts";
import { backendFor } from "../lib/storage/mod.ts";
import { checkReadiness } from "../lib/telemetry/readiness.ts";

/**
 * Readiness: 200 while KV and the video store answer within a short timeout, else 503, so a
 * load balancer stops sending work here (/healthz says only whether the process lives).
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { kv, config } = ctx.state.services;
    const r = await checkReadiness({ kv, store: backendFor(config) });
    return json(
      { status: r.ready ? "ok" : "unavailable", checks: r.checks },
      { status: r.ready ? 200 : 503, headers: { "Cache-Control": "no-store" } },
    );
  },
});
