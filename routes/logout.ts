import { define } from "../utils.ts";
import { clearSessionCookie, SESSION_COOKIE } from "../lib/auth/session.ts";
import { getCookie } from "../lib/auth/cookies.ts";
import { deleteSession } from "../lib/db/sessions.ts";

/** Signs this browser out (POST only: a link or image cannot sign anyone out). */
export const handler = define.handlers({
  async POST(ctx) {
    const { kv, config } = ctx.state.services;
    const token = getCookie(ctx.req, SESSION_COOKIE);
    if (token) await deleteSession(kv, token);
    return new Response(null, {
      status: 303,
      headers: { Location: "/login?m=signed_out", "Set-Cookie": clearSessionCookie(config) },
    });
  },
});
