import { page } from "fresh";
import { z } from "zod";
import { define, type State } from "../../../utils.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import {
  changeMemberRole,
  InviteForm,
  inviteMember,
  listMembersForPage,
  type MemberView,
  removeMemberFromOrg,
  RoleForm,
} from "../../../lib/auth/members.ts";
import { hasRole, requireRole } from "../../../lib/auth/roles.ts";
import { Conflict } from "../../../lib/errors.ts";
import { type Invite, revokeInvite } from "../../../lib/db/memberships.ts";
import { parseWith } from "../../../lib/http/json.ts";
import { putFlash, takeFlash } from "../../../lib/db/flash.ts";
import CopyButton from "../../../islands/CopyButton.tsx";
import { DataTable, Field, fieldAria, Flash, PageHeader } from "../../../components/ui.tsx";
import { noticeFor } from "../../../lib/http/notice.ts";
import { When } from "../../../components/time.tsx";

interface Data {
  members: MemberView[];
  invites: Omit<Invite, "hash">[];
  isOwner: boolean;
  newInvite: { link: string; emailed: boolean; email: string | null } | null;
  inviteError: { email?: string; role?: string };
  message: string | null;
  error: string | null;
}

const Intent = z.object({ intent: z.enum(["invite", "role", "remove", "revoke_invite"]) });
const MESSAGES: Record<string, string> = {
  role: "The role was changed.",
  removed: "The member was removed.",
  invite_revoked: "The invitation was revoked.",
};
const ERRORS: Record<string, string> = {
  last_owner:
    "An organization needs at least one owner. Make someone else an owner first, then change this.",
};

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services, flashOwner } = ctx.state;
    const d = await load(ctx.state, ctx.url.searchParams.get("m"));
    d.error = ERRORS[ctx.url.searchParams.get("e") ?? ""] ?? null;
    const flash = await takeFlash(
      services.kv,
      flashOwner!,
      ctx.url.searchParams.get("invited"),
      "invite_created",
      services.now(),
    );
    if (flash) d.newInvite = { link: flash.link, emailed: flash.emailed, email: flash.email };
    return page(d);
  },
  async POST(ctx) {
    const { services } = ctx.state;
    requireRole(ctx.state, "owner");
    const form = await readFormObject(ctx.req);
    const { intent } = parseWith(Intent, form);
    if (intent === "invite") {
      const parsed = InviteForm.safeParse(form);
      if (!parsed.success) {
        const d = await load(ctx.state, null);
        for (const i of parsed.error.issues) {
          d.inviteError[String(i.path[0]) as "email" | "role"] ??= i.message;
        }
        return page(d, { status: 400 });
      }
      const made = await inviteMember(services, ctx.state, parsed.data);
      // POST → 303 → GET: a reload invites nobody twice; the link is a one-time flash.
      const flash = await putFlash(services.kv, ctx.state.flashOwner!, {
        kind: "invite_created",
        link: made.link,
        emailed: made.emailed,
        email: made.invite.email,
      }, services.now());
      return ctx.redirect(`/settings/members?invited=${flash}`, 303);
    }
    try {
      if (intent === "role") {
        await changeMemberRole(services, ctx.state, parseWith(RoleForm, form));
        return ctx.redirect("/settings/members?m=role", 303);
      }
      if (intent === "remove") {
        const { user_id } = parseWith(z.object({ user_id: z.string().min(1).max(64) }), form);
        await removeMemberFromOrg(services, ctx.state, user_id);
        return ctx.redirect("/settings/members?m=removed", 303);
      }
    } catch (err) {
      // The last owner is not offered these actions; a stale page or a race lands here.
      if (err instanceof Conflict) return ctx.redirect("/settings/members?e=last_owner", 303);
      throw err;
    }
    const { invite_id } = parseWith(z.object({ invite_id: z.string().min(1).max(64) }), form);
    await revokeInvite(services.kv, ctx.state.org!.id, invite_id);
    return ctx.redirect("/settings/members?m=invite_revoked", 303);
  },
});

async function load(state: State, m: string | null): Promise<Data> {
  const { members, invites } = await listMembersForPage(state.services, state.org!.id);
  return {
    members,
    invites,
    isOwner: hasRole(state, "owner"),
    newInvite: null,
    inviteError: {},
    message: noticeFor(MESSAGES, m),
    error: null,
  };
}

const ROLE_OPTIONS = ["member", "admin", "owner"] as const;

export default define.page<unknown, Data>(function Members({ data, state }) {
  const owners = data.members.filter((m) => m.role === "owner").length;
  // The only owner can be neither demoted nor removed: those actions are not offered.
  const isOnlyOwner = (m: MemberView) => m.role === "owner" && owners === 1;
  return (
    <>
      <PageHeader
        title="Members"
        description="Members see everything; admins also manage keys, billing and webhooks; owners also manage members."
      />
      {data.message && <Flash kind="success">{data.message}</Flash>}
      {data.error && <Flash kind="error">{data.error}</Flash>}
      {data.newInvite && (
        <div class="card secret-card" data-testid="new-invite">
          <h2>Invitation ready</h2>
          <p>
            {data.newInvite.emailed
              ? `We emailed it to ${data.newInvite.email}. You can also share the link:`
              : "Share this link with the person you invite. It works once and expires in 7 days."}
          </p>
          <div class="secret-row">
            <code class="secret" data-testid="invite-link">{data.newInvite.link}</code>
            <CopyButton value={data.newInvite.link} label="Copy link" />
          </div>
        </div>
      )}
      <DataTable caption="Members">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
            {data.isOwner && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {data.members.map((m) => (
            <tr key={m.user_id}>
              <td>
                {m.name
                  ? (
                    <>
                      {m.name} <span class="muted">({m.email})</span>
                    </>
                  )
                  : m.email}
                {m.user_id === state.user!.id && <span class="muted">· you</span>}
              </td>
              <td>
                {data.isOwner && !isOnlyOwner(m)
                  ? (
                    <form method="post" class="inline-form">
                      <input type="hidden" name="intent" value="role" />
                      <input type="hidden" name="user_id" value={m.user_id} />
                      <label class="visually-hidden" for={`role-${m.user_id}`}>
                        Role of {m.email}
                      </label>
                      <select id={`role-${m.user_id}`} name="role">
                        {ROLE_OPTIONS.map((r) => (
                          <option key={r} value={r} selected={r === m.role}>{r}</option>
                        ))}
                      </select>
                      <button type="submit" class="button small">Save</button>
                    </form>
                  )
                  : (
                    <>
                      <span class="badge">{m.role}</span>
                      {data.isOwner && <span class="muted">· the only owner</span>}
                    </>
                  )}
              </td>
              <td data-label="Joined">
                <When ms={m.joined_at} precision="date" />
              </td>
              {data.isOwner && (
                <td class="actions-cell">
                  {!isOnlyOwner(m) && (
                    <form method="post">
                      <input type="hidden" name="intent" value="remove" />
                      <input type="hidden" name="user_id" value={m.user_id} />
                      <button type="submit" class="button small danger">
                        Remove<span class="visually-hidden">{m.email}</span>
                      </button>
                    </form>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </DataTable>
      {data.isOwner && (
        <>
          <form method="post" class="card invite-form" novalidate>
            <h2>Invite someone</h2>
            <input type="hidden" name="intent" value="invite" />
            <div class="form-row">
              <Field
                id="invite-email"
                label="Email (optional)"
                error={data.inviteError.email}
                hint="With an email, only that person can accept. Empty: anyone with the link."
              >
                <input
                  {...fieldAria("invite-email", data.inviteError.email, true)}
                  type="email"
                  name="email"
                  autocomplete="off"
                />
              </Field>
              <Field id="invite-role" label="Role" error={data.inviteError.role}>
                <select {...fieldAria("invite-role", data.inviteError.role)} name="role">
                  {ROLE_OPTIONS.map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </Field>
            </div>
            <button type="submit" class="button primary">Create invitation</button>
          </form>
          {data.invites.length > 0 && (
            <DataTable caption="Pending invitations">
              <thead>
                <tr>
                  <th scope="col">Invited</th>
                  <th scope="col">Role</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.invites.map((i) => (
                  <tr key={i.id}>
                    <td data-label="Invited">{i.email ?? "Anyone with the link"}</td>
                    <td data-label="Role">{i.role}</td>
                    <td data-label="Expires">
                      <When ms={i.expires_at} precision="date" />
                    </td>
                    <td class="actions-cell">
                      <form method="post">
                        <input type="hidden" name="intent" value="revoke_invite" />
                        <input type="hidden" name="invite_id" value={i.id} />
                        <button type="submit" class="button small danger">Revoke</button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </DataTable>
          )}
        </>
      )}
    </>
  );
});
