import { define } from "../../../utils.ts";
import { deleteOperatorSession } from "../../../lib/db/operator_sessions.ts";
import { clearOperatorCookie, operatorToken } from "../../../lib/admin/operator_cookie.ts";

/** Ends the operator session (the middleware has checked it and the form's CSRF token). */
export const handler = define.handlers({
  async POST(ctx) {
    const { kv, config } = ctx.state.services;
    await deleteOperatorSession(kv, operatorToken(ctx.req)!);
    return new Response(null, {
      status: 303,
      headers: { Location: "/admin/login", "Set-Cookie": clearOperatorCookie(config) },
    });
  },
});
