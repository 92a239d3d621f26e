import { define } from "../../../utils.ts";
import { Forbidden, NotFound, Unauthorized } from "../../../lib/errors.ts";
import { sameSecret } from "../../../lib/http/bearer.ts";
import { getOperatorSession } from "../../../lib/db/operator_sessions.ts";
import { operatorToken } from "../../../lib/admin/operator_cookie.ts";

/**
 * The operator console exists only with ADMIN_TOKEN set. Every page needs an operator session
 * (a signed-out GET goes to the sign-in form); every POST also carries the session's CSRF token
 * in its `csrf` field, on top of the same-origin check all forms get.
 */
export const handler = define.middleware(async (ctx) => {
  const { config, kv, now } = ctx.state.services;
  if (!config.ADMIN_TOKEN) throw new NotFound();
  const token = operatorToken(ctx.req);
  const session = token ? await getOperatorSession(kv, token, now()) : null;
  if (!session) {
    if (ctx.req.method === "GET" || ctx.req.method === "HEAD") {
      return ctx.redirect("/admin/login", 303);
    }
    throw new Unauthorized("Sign in to the operator console first", "operator_session_required");
  }
  if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") {
    // Read once here and handed on as a fresh request (a clone would tie up the request signal).
    const { url, method, headers } = ctx.req;
    const body = await ctx.req.arrayBuffer();
    ctx.req = new Request(url, { method, headers, body });
    const form = await ctx.req.clone().formData().catch(() => null);
    const csrf = form?.get("csrf");
    if (!sameSecret(typeof csrf === "string" ? csrf : null, session.csrf)) {
      throw new Forbidden("The form's CSRF token is missing or stale: reload the page");
    }
  }
  ctx.state.operator = { sessionId: session.id, csrf: session.csrf };
  const res = await ctx.next();
  // Balances and ledgers stay out of shared and browser caches.
  if (!res.headers.has("Cache-Control")) res.headers.set("Cache-Control", "no-store");
  return res;
});
