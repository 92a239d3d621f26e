import { Head, page } from "fresh";
import { define } from "../utils.ts";
import { clearSessionCookie, SESSION_COOKIE } from "../lib/auth/session.ts";
import { getCookie } from "../lib/auth/cookies.ts";
import { deleteSession } from "../lib/db/sessions.ts";

/**
 * Signs this browser out. Only a POST does it (a link or image cannot sign anyone out); a GET
 * (a typed or bookmarked /logout) gets the button to do it.
 */
export const handler = define.handlers({
  GET(ctx) {
    if (!getCookie(ctx.req, SESSION_COOKIE)) return ctx.redirect("/login", 303);
    return page({});
  },
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

export default define.page(function SignOut() {
  return (
    <main id="main" class="container narrow auth-page">
      <Head>
        <title>Sign out · Pipevideo</title>
      </Head>
      <h1>Sign out?</h1>
      <form method="post" action="/logout" class="actions">
        <button type="submit" class="button primary">Sign out</button>
        <a class="button" href="/playground">Back to the dashboard</a>
      </form>
    </main>
  );
});
