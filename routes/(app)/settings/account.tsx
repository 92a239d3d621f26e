import { page } from "fresh";
import { define } from "../../../utils.ts";
import { signOutEverywhere } from "../../../lib/auth/members.ts";
import { clearSessionCookie } from "../../../lib/auth/session.ts";
import { countUserSessions } from "../../../lib/db/sessions.ts";
import { PageHeader } from "../../../components/ui.tsx";

export const handler = define.handlers<{ sessions: number }>({
  async GET(ctx) {
    return page({ sessions: await countUserSessions(ctx.state.services.kv, ctx.state.user!.id) });
  },
  /** "Sign out everywhere": every session of this user ends, this one included. */
  async POST(ctx) {
    await signOutEverywhere(ctx.state.services, ctx.state.user!.id);
    return new Response(null, {
      status: 303,
      headers: {
        Location: "/login?m=signed_out_everywhere",
        "Set-Cookie": clearSessionCookie(ctx.state.services.config),
      },
    });
  },
});

export default define.page<unknown, { sessions: number }>(function Account({ data, state }) {
  return (
    <div class="narrow">
      <PageHeader title="Account" description={<>Signed in as {state.user!.email}.</>} />
      <div class="card">
        <h2>Sessions</h2>
        <p>
          You are signed in on {data.sessions}{" "}
          {data.sessions === 1 ? "device" : "devices"}. Signing out everywhere ends all of them,
          including this one.
        </p>
        <form method="post" action="/settings/account">
          <button type="submit" class="button danger">Sign out everywhere</button>
        </form>
      </div>
    </div>
  );
});
