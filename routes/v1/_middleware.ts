import { define } from "../../utils.ts";
import { generationKey } from "../../lib/db/generations.ts";
import { isId } from "../../lib/ids.ts";
import { withHeaders } from "../../lib/http/security.ts";
import { authenticateApiRequest } from "../../lib/api/auth.ts";
import { enforceRequestLimit } from "../../lib/ratelimit.ts";

/**
 * Polling one generation is the API's hottest path (clients poll every second or so): its record
 * is read in the same KV round trip as the key, which measured ~40% cheaper than two reads. The
 * route still checks that the record belongs to the key's organization.
 */
const PREFETCH: Record<string, (params: Record<string, string>) => Deno.KvKey[]> = {
  "/v1/video/generations/:id": (p) => isId("gen", p.id) ? [generationKey(p.id)] : [],
};

/**
 * Every /v1 call (/v1/video/generations, /v1/videos, …): a live API key, checked as /mcp checks
 * it (lib/api/auth.ts), then its rate limit.
 */
export const handler = define.middleware(async (ctx) => {
  const { services } = ctx.state;
  const alsoRead = PREFETCH[ctx.route ?? ""]?.(ctx.params) ?? [];
  const { caller, also } = await authenticateApiRequest(services, ctx.req, { alsoRead });
  ctx.state.apiKey = { id: caller.keyId, orgId: caller.orgId };
  ctx.state.prefetched = also;

  const headers = await enforceRequestLimit(services, caller.keyId);
  // Error responses come back here too (each level renders its own errors), so all carry them.
  return withHeaders(await ctx.next(), (h) => {
    for (const k in headers) h.set(k, headers[k]);
  });
});
