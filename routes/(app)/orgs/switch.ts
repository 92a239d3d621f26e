import { z } from "zod";
import { define } from "../../../utils.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { parseWith } from "../../../lib/http/json.ts";
import { switchOrg } from "../../../lib/auth/orgs.ts";
import { safeNext } from "../../../lib/auth/session.ts";

const Body = z.object({ org_id: z.string().min(1).max(64), next: z.string().max(2000).optional() });

/** The org switcher's form: remembers the choice in the session, then goes back. */
export const handler = define.handlers({
  // A bookmarked or reloaded /orgs/switch: the organizations are chosen in Settings.
  GET(ctx) {
    return ctx.redirect("/settings", 303);
  },
  async POST(ctx) {
    const body = parseWith(Body, await readFormObject(ctx.req));
    await switchOrg(ctx.state.services, ctx.req, ctx.state.user!.id, body.org_id);
    return ctx.redirect(safeNext(body.next, "/keys"), 303);
  },
});
