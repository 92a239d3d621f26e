import { page } from "fresh";
import { define, type State } from "../../../utils.ts";
import { listMembersForPage, type MemberView } from "../../../lib/auth/members.ts";
import {
  loadSessionViews,
  SESSION_MESSAGES,
  type SessionView,
} from "../../../lib/dashboard/sessions.ts";
import { SessionsList } from "../../../components/sessions.tsx";
import { noticeFor } from "../../../lib/http/notice.ts";
import { hasRole } from "../../../lib/auth/roles.ts";
import { Field, fieldAria, Flash, PageHeader } from "../../../components/ui.tsx";
import { readFormObject } from "../../../lib/http/form.ts";
import { requireRole } from "../../../lib/auth/roles.ts";
import { renameOrg } from "../../../lib/db/orgs.ts";
import { MAX_ORG_NAME } from "../../../lib/db/memberships.ts";
import { OrgNameForm } from "../../../lib/dashboard/org_name.ts";

interface Data {
  members: MemberView[];
  invites: number;
  sessions: SessionView[];
  isOwner: boolean;
  /** The notice after a 303 back here (renamed, a session signed out), or null. */
  message: string | null;
  nameError: string | null;
  name: string;
}

/** Settings in one place: the organization, its members and invitations, your sessions. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    return page(await load(ctx.state, ctx.url.searchParams.get("m")));
  },
  /** Renames the organization (owners only), then back here: POST → 303 → GET. */
  async POST(ctx) {
    requireRole(ctx.state, "owner");
    const form = await readFormObject(ctx.req);
    const parsed = OrgNameForm.safeParse(form);
    if (!parsed.success) {
      const d = await load(ctx.state, null);
      d.nameError = parsed.error.issues[0].message;
      d.name = String(form.name ?? "");
      return page(d, { status: 400 });
    }
    await renameOrg(ctx.state.services.kv, ctx.state.org!.id, parsed.data.name);
    return ctx.redirect("/settings?m=renamed", 303);
  },
});

const MESSAGES: Record<string, string> = {
  renamed: "The organization was renamed.",
  ...SESSION_MESSAGES,
};

async function load(state: State, m: string | null): Promise<Data> {
  const { services, org, user, sessionId } = state;
  const [{ members, invites }, sessions] = await Promise.all([
    listMembersForPage(services, org!.id),
    loadSessionViews(services.kv, user!.id, sessionId!, services.now()),
  ]);
  return {
    members,
    invites: invites.length,
    sessions,
    isOwner: hasRole(state, "owner"),
    message: noticeFor(MESSAGES, m),
    nameError: null,
    name: org!.name,
  };
}

export default define.page<typeof handler, Data>(function Settings({ data, state }) {
  return (
    <div class="settings-page">
      <PageHeader title="Settings" />
      {data.message && <Flash kind="success">{data.message}</Flash>}
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
        {data.isOwner && (
          <form method="post" action="/settings" class="rename-form" novalidate>
            <Field id="org-name" label="Rename" error={data.nameError}>
              <input
                {...fieldAria("org-name", data.nameError)}
                name="name"
                required
                maxlength={MAX_ORG_NAME}
                value={data.name}
              />
            </Field>
            <button type="submit" class="button">Save name</button>
          </form>
        )}
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
          Where {state.user!.email} is signed in. To end every session, this one included, use{" "}
          <a href="/settings/account">sign out everywhere</a>.
        </p>
        <SessionsList sessions={data.sessions} back="settings" />
      </section>
    </div>
  );
});
