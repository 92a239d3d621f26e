import { page } from "fresh";
import { define } from "../../utils.ts";
import { readForm } from "../../lib/http/form.ts";
import { readSession } from "../../lib/auth/session.ts";
import { switchOrg } from "../../lib/auth/orgs.ts";
import { acceptInvite, getInvite, type Invite } from "../../lib/db/memberships.ts";
import { getOrg } from "../../lib/db/orgs.ts";
import { Flash } from "../../components/ui.tsx";

interface Data {
  invite: Pick<Invite, "role" | "email"> | null;
  orgName: string | null;
  email: string;
}

/** An invitation link: sign in first (coming back here), then accept with one POST. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { kv, now } = ctx.state.services;
    const signedIn = await readSession(kv, ctx.req, now());
    if (!signedIn) {
      return ctx.redirect(`/login?next=${encodeURIComponent(ctx.url.pathname)}`, 303);
    }
    const invite = await getInvite(kv, ctx.params.token, now());
    const org = invite ? await getOrg(kv, invite.org_id) : null;
    return page({
      invite: invite && { role: invite.role, email: invite.email },
      orgName: org?.name ?? null,
      email: signedIn.user.email,
    }, { status: invite ? 200 : 404 });
  },
  async POST(ctx) {
    await readForm(ctx.req); // the accept button's form: anything else changes nothing
    const { services } = ctx.state;
    const signedIn = await readSession(services.kv, ctx.req, services.now());
    if (!signedIn) {
      return ctx.redirect(`/login?next=${encodeURIComponent(ctx.url.pathname)}`, 303);
    }
    const m = await acceptInvite(services.kv, ctx.params.token, signedIn.user, services.now());
    await switchOrg(services, ctx.req, signedIn.user.id, m.org_id);
    return ctx.redirect("/playground?joined=1", 303);
  },
});

export default define.page<unknown, Data>(function AcceptInvite({ data }) {
  return (
    <main id="main" class="container auth-page">
      <div class="card auth-card">
        {data.invite && data.orgName
          ? (
            <>
              <h1>Join {data.orgName}</h1>
              <p>
                You are invited as <strong>{data.invite.role}</strong>. You are signed in as{" "}
                {data.email}.
              </p>
              {data.invite.email && data.invite.email !== data.email && (
                <Flash kind="warning">
                  This invitation is for{" "}
                  {data.invite.email}. Sign in with that address to accept it.
                </Flash>
              )}
              <form method="post">
                <button type="submit" class="button primary wide">Accept invitation</button>
              </form>
            </>
          )
          : (
            <>
              <h1>This invitation no longer works</h1>
              <p>It may have expired or been used. Ask for a new one.</p>
            </>
          )}
      </div>
    </main>
  );
});
