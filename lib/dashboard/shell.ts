import type { State } from "../../utils.ts";
import type { Context } from "fresh";
import { loadDashboard } from "../auth/dashboard.ts";

/**
 * Reads who is signed in and fills `state` with what every page's header shows (user, org,
 * balance). Returns what it loaded, or null when nobody is signed in (state is left as it was).
 */
export async function loadShell(state: State, req: Request) {
  const { kv, now } = state.services;
  const d = await loadDashboard(kv, req, now());
  if (!d) return null;
  state.user = { id: d.user.id, email: d.user.email, name: d.user.name };
  state.sessionId = d.session.id;
  // Opens the one-time reveals this session sealed (lib/db/flash.ts).
  state.flashOwner = { sessionId: d.session.id, token: d.token };
  if (d.current) {
    state.org = { id: d.current.org.id, name: d.current.org.name };
    state.role = d.current.role;
  }
  state.dashboard = {
    orgs: d.orgs.map((o) => ({ id: o.org.id, name: o.org.name, role: o.role })),
    balanceCents: d.balanceCents,
  };
  return d;
}

/**
 * For public pages (home, models, docs): a signed-in visitor gets the same header as in the
 * dashboard, and the page, now per user, is never cached.
 */
export async function publicShell(ctx: Context<State>): Promise<Response> {
  const d = await loadShell(ctx.state, ctx.req);
  const res = await ctx.next();
  if (!d) return res;
  const out = new Response(res.body, res);
  out.headers.set("Cache-Control", "no-store");
  return out;
}
