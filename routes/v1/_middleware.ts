import { define } from "../../utils.ts";
import { authenticateKey } from "../../lib/db/apikeys.ts";
import { applySecurityHeaders } from "../../lib/http/security.ts";
import { RateLimited, Unauthorized } from "../../lib/errors.ts";
import { createRateLimiter, type RateLimiter, rateLimitHeaders } from "../../lib/ratelimit.ts";
import type { Services } from "../../lib/services.ts";

// One in-memory limiter per app instance (tests run several apps in one process).
const limiters = new WeakMap<Services, RateLimiter>();

function limiterFor(services: Services): RateLimiter {
  let l = limiters.get(services);
  if (!l) {
    l = createRateLimiter({ limit: services.config.RATE_LIMIT_PER_MINUTE, now: services.now });
    limiters.set(services, l);
  }
  return l;
}

/** Every /v1 call: a live API key (`Authorization: Bearer pv_…`), then its rate limit. */
export const handler = define.middleware(async (ctx) => {
  const { services } = ctx.state;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.get("Authorization") ?? "");
  if (!m) throw new Unauthorized("Missing API key: send Authorization: Bearer pv_…");
  const { key } = await authenticateKey(services.kv, m[1], services.now());
  ctx.state.apiKey = { id: key.id, orgId: key.org_id };

  const limit = limiterFor(services).check(key.id);
  const headers = rateLimitHeaders(limit);
  if (!limit.allowed) throw new RateLimited(limit.retryAfter, headers);
  // Error responses come back here too (each level renders its own errors), so all carry them.
  return applySecurityHeaders(await ctx.next(), headers);
});
