import { page } from "fresh";
import { define, type State } from "../../../utils.ts";
import { listMembersForPage, type MemberView } from "../../../lib/auth/members.ts";
import { countUserSessions } from "../../../lib/db/sessions.ts";
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
  sessions: number;
  isOwner: boolean;
  renamed: boolean;
  nameError: string | null;
  name: string;
}

/** Settings in one place: the organization, its members and invitations, your sessions. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    return page(await load(ctx.state, ctx.url.searchParams.get("m") === "renamed"));
  },
  /** Renames the organization (owners only), then back here: POST → 303 → GET. */
  async POST(ctx) {
    requireRole(ctx.state, "owner");
    const form = await readFormObject(ctx.req);
    const parsed = OrgNameForm.safeParse(form);
    if (!parsed.success) {
      const d = await load(ctx.state, false);
      d.nameError = parsed.error.issues[0].message;
      d.name = String(form.name ?? "");
      return page(d, { status: 400 });
    }
    await renameOrg(ctx.state.services.kv, ctx.state.org!.id, parsed.data.name);
    return ctx.redirect("/settings?m=renamed", 303);
  },
});

async function load(state: State, renamed: boolean): Promise<Data> {
  const { services, org, user } = state;
  const [{ members, invites }, sessions] = await Promise.all([
    listMembersForPage(services, org!.id),
    countUserSessions(services.kv, user!.id),
  ]);
  return {
    members,
    invites: invites.length,
    sessions,
    isOwner: hasRole(state, "owner"),
    renamed,
    nameError: null,
    name: org!.name,
  };
}

export default define.page<typeof handler, Data>(function Settings({ data, state }) {
  return (
    <div class="settings-page">
      <PageHeader title="Settings" />
      {data.renamed && <Flash kind="success">The organization was renamed.</Flash>}
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
          {state.user!.email} is signed in on {data.sessions}{" "}
          {data.sessions === 1 ? "device" : "devices"}.{" "}
          <a href="/settings/account">Manage sessions</a>
        </p>
      </section>
    </div>
  );
});
