import { page } from "fresh";
import { define } from "../../../utils.ts";
import { listMembersForPage, type MemberView } from "../../../lib/auth/members.ts";
import { countUserSessions } from "../../../lib/db/sessions.ts";
import { hasRole } from "../../../lib/auth/roles.ts";
import { PageHeader } from "../../../components/ui.tsx";

interface Data {
  members: MemberView[];
  invites: number;
  sessions: number;
  isOwner: boolean;
}

/** Settings in one place: the organization, its members and invitations, your sessions. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services, org, user } = ctx.state;
    const [{ members, invites }, sessions] = await Promise.all([
      listMembersForPage(services, org!.id),
      countUserSessions(services.kv, user!.id),
    ]);
    return page({
      members,
      invites: invites.length,
      sessions,
      isOwner: hasRole(ctx.state, "owner"),
    });
  },
});

export default define.page<typeof handler, Data>(function Settings({ data, state }) {
  return (
    <div class="settings-page">
      <PageHeader title="Settings" />
      <section class="card" aria-labelledby="org-heading">
        <h2 id="org-heading">Organization</h2>
        <dl class="details-list">
          <dt>Name</dt>
          <dd data-testid="org-name">{state.org!.name}</dd>
          <dt>Id</dt>
          <dd>
            <code>{state.org!.id}</code>
          </dd>
          <dt>Your role</dt>
          <dd>{state.role}</dd>
        </dl>
        <p>
          Switch organization with the picker at the top; it applies as soon as you choose.{" "}
          <a href="/orgs/new">Create another organization</a>
        </p>
      </section>
      <section class="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members and invitations</h2>
        <ul class="plain-list">
          {data.members.map((m) => (
            <li key={m.user_id}>
              {m.name ?? m.email} <span class="muted">· {m.role}</span>
            </li>
          ))}
        </ul>
        <p>
          {data.invites} pending invitation{data.invites === 1 ? "" : "s"}.{" "}
          <a href="/settings/members">
            {data.isOwner ? "Manage members and invitations" : "See members"}
          </a>
        </p>
      </section>
      <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Your sessions</h2>
        <p>
          {state.user!.email} is signed in on {data.sessions}{" "}
          {data.sessions === 1 ? "device" : "devices"}.{" "}
          <a href="/settings/account">Manage sessions</a>
        </p>
      </section>
    </div>
  );
});
