import { page } from "fresh";
import { define } from "../../../utils.ts";
import { signOutEverywhere } from "../../../lib/auth/members.ts";
import { clearSessionCookie } from "../../../lib/auth/session.ts";
import { deleteUserSession, deleteUserSessions } from "../../../lib/db/sessions.ts";
import {
  loadSessionViews,
  SESSION_MESSAGES,
  SessionsForm,
  type SessionView,
} from "../../../lib/dashboard/sessions.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { parseWith } from "../../../lib/http/json.ts";
import { noticeFor } from "../../../lib/http/notice.ts";
import { SessionsList } from "../../../components/sessions.tsx";
import { Flash, PageHeader } from "../../../components/ui.tsx";

interface Data {
  sessions: SessionView[];
  message: string | null;
}

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services, user, sessionId } = ctx.state;
    return page({
      sessions: await loadSessionViews(services.kv, user!.id, sessionId!, services.now()),
      message: noticeFor(SESSION_MESSAGES, ctx.url.searchParams.get("m")),
    });
  },
  /**
   * Ends one other session, all other sessions, or every session of this user ("everywhere",
   * this one included); then POST → 303 → GET. Only the signed-in user's own sessions are found.
   */
  async POST(ctx) {
    const { services, user, sessionId } = ctx.state;
    // No intent: the "Sign out everywhere" form as it was before sessions were listed.
    const form = parseWith(SessionsForm, {
      intent: "everywhere",
      ...await readFormObject(ctx.req),
    });
    if (form.intent === "everywhere") {
      await signOutEverywhere(services, user!.id);
      return new Response(null, {
        status: 303,
        headers: {
          Location: "/login?m=signed_out_everywhere",
          "Set-Cookie": clearSessionCookie(services.config),
        },
      });
    }
    const back = form.back === "settings" ? "/settings" : "/settings/account";
    if (form.intent === "one") {
      // This session is not offered here (signing out is); a stale or forged form changes nothing.
      if (form.session_id === sessionId) return ctx.redirect(back, 303);
      await deleteUserSession(services.kv, user!.id, form.session_id);
    } else {
      await deleteUserSessions(services.kv, user!.id, { except: sessionId });
    }
    return ctx.redirect(`${back}?m=signed_out_${form.intent}#sessions-heading`, 303);
  },
});

export default define.page<unknown, Data>(function Account({ data, state }) {
  return (
    <div class="narrow">
      <PageHeader title="Account" description={<>Signed in as {state.user!.email}.</>} />
      {data.message && <Flash kind="success">{data.message}</Flash>}
      <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Your sessions</h2>
        <SessionsList sessions={data.sessions} back="account" />
      </section>
      <section class="card" aria-labelledby="everywhere-heading">
        <h2 id="everywhere-heading">Sign out everywhere</h2>
        <p>Ends all {data.sessions.length} of your sessions, including this one.</p>
        <form method="post" action="/settings/account">
          <input type="hidden" name="intent" value="everywhere" />
          <button type="submit" class="button danger">Sign out everywhere</button>
        </form>
      </section>
    </div>
  );
});
