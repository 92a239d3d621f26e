import { define } from "../../utils.ts";
import { loadDashboard } from "../../lib/auth/dashboard.ts";
import { Unauthorized } from "../../lib/errors.ts";
import { apiErrorResponse } from "../../lib/http/errors.ts";

// Pages a signed-in user without any organization may still open.
const WITHOUT_ORG = /^\/orgs(\/|$)|^\/settings\/account$/;

function asksForJson(req: Request): boolean {
  const accept = req.headers.get("Accept") ?? "";
  const wantsJson = accept.includes("application/json") && !accept.includes("text/html");
  return wantsJson || (req.headers.get("Content-Type") ?? "").startsWith("application/json");
}

/** Dashboard guard: a session, then the current org and role; every page below relies on it. */
export const handler = define.middleware(async (ctx) => {
  const { kv, now } = ctx.state.services;
  const d = await loadDashboard(kv, ctx.req, now());
  if (!d) {
    // A script's JSON call (the playground island) cannot follow a redirect to a page.
    if (asksForJson(ctx.req)) {
      const ended = new Unauthorized("Your session ended. Sign in again.", "session_expired");
      return apiErrorResponse(ended, ctx.state.requestId);
    }
    const next = ctx.url.pathname + ctx.url.search;
    return ctx.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  }
  ctx.state.user = { id: d.user.id, email: d.user.email, name: d.user.name };
  ctx.state.sessionId = d.session.id;
  ctx.state.flashOwner = { sessionId: d.session.id, token: d.token };
  if (d.current) {
    ctx.state.org = { id: d.current.org.id, name: d.current.org.name };
    ctx.state.role = d.current.role;
  } else if (!WITHOUT_ORG.test(ctx.url.pathname)) {
    return ctx.redirect("/orgs/new", 303);
  }
  ctx.state.dashboard = {
    orgs: d.orgs.map((o) => ({ id: o.org.id, name: o.org.name, role: o.role })),
    balanceCents: d.balanceCents,
  };
  const res = await ctx.next();
  // Dashboard pages are per user: never cached by the browser or a proxy.
  const out = new Response(res.body, res);
  if (!out.headers.has("Cache-Control")) out.headers.set("Cache-Control", "no-store");
  return out;
});
