import { define } from "../utils.ts";
import { bearerToken, sameSecret } from "../lib/http/bearer.ts";
import { METRICS_CONTENT_TYPE, scrapeMetrics } from "../lib/telemetry/shared_state.ts";

/**
 * Prometheus metrics (docs/operations.md), behind `Authorization: Bearer $METRICS_TOKEN`
 * (ADMIN_TOKEN when that is unset); with neither set the endpoint does not exist.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { config, kv, now } = ctx.state.services;
    const token = config.METRICS_TOKEN ?? config.ADMIN_TOKEN;
    if (!token) return new Response("Not found\n", { status: 404 });
    if (!sameSecret(bearerToken(ctx.req), token)) {
      return new Response("Missing or invalid metrics token\n", {
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
      });
    }
    return new Response(await scrapeMetrics(kv, now()), {
      headers: { "Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store" },
    });
  },
});
