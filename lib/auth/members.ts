import { z } from "zod";
import type { Services } from "../services.ts";
import {
  createInvite,
  type Invite,
  listInvites,
  listOrgMembers,
  removeMember,
  type Role,
  setMemberRole,
} from "../db/memberships.ts";
import { RateLimited } from "../errors.ts";
import { getUser } from "../db/users.ts";
import { countSignInAttempt, deleteUserSessions } from "../db/sessions.ts";
import { escapeHtml, mailerFor, plainName } from "../mail.ts";
import { requireRole } from "./roles.ts";

/** The members page's rules: everyone sees the list, owners manage members and invitations. */

type Actor = {
  user?: { id: string; email: string };
  org?: { id: string; name: string };
  role?: Role;
};

export const InviteForm = z.object({
  role: z.enum(["member", "admin", "owner"], "Pick a role"),
  email: z.string().trim().max(254).pipe(z.union([z.literal(""), z.email("Enter a valid email")]))
    .optional(),
});

export const RoleForm = z.object({
  user_id: z.string().min(1).max(64),
  role: z.enum(["member", "admin", "owner"], "Pick a role"),
});

export interface MemberView {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  joined_at: number;
}

export async function listMembersForPage(services: Services, orgId: string) {
  const members: MemberView[] = [];
  for (const m of await listOrgMembers(services.kv, orgId)) {
    const u = await getUser(services.kv, m.user_id);
    if (u) {
      members.push({
        user_id: u.id,
        email: u.email,
        name: u.name,
        role: m.role,
        joined_at: m.created_at,
      });
    }
  }
  const invites = (await listInvites(services.kv, orgId, services.now()))
    .map(({ hash: _h, ...rest }) => rest);
  return { members, invites };
}

/** Invitations a user, and an organization, may create per day: enough for a team, not spam. */
export const INVITE_LIMITS = {
  perUser: { limit: 30, windowMs: 24 * 3600_000 },
  perOrg: { limit: 50, windowMs: 24 * 3600_000 },
};

/** Creates an invitation link; with an email and SMTP, it is also mailed. */
export async function inviteMember(
  services: Services,
  actor: Actor,
  input: { role: Role; email?: string },
): Promise<{ link: string; invite: Omit<Invite, "hash">; emailed: boolean }> {
  requireRole(actor, "owner");
  const nowMs = services.now();
  for (
    const [scope, subject, limit] of [
      ["invite_user", actor.user!.id, INVITE_LIMITS.perUser],
      ["invite_org", actor.org!.id, INVITE_LIMITS.perOrg],
    ] as const
  ) {
    const r = await countSignInAttempt(services.kv, scope, subject, { ...limit, nowMs });
    if (!r.allowed) throw new RateLimited(r.retryAfterSeconds, {});
  }
  const { token, invite } = await createInvite(services.kv, {
    orgId: actor.org!.id,
    role: input.role,
    email: input.email || null,
    invitedBy: actor.user!.id,
  }, nowMs);
  const link = `${services.config.publicUrl}/invites/${token}`;
  const mailer = mailerFor(services.config);
  let emailed = false;
  if (invite.email && mailer.configured) {
    // Names are chosen by whoever made the org: plain text in the body, never in the subject.
    const org = plainName(actor.org!.name);
    await mailer.send({
      to: invite.email,
      subject: "You are invited to an organization on Pipevideo",
      text: `${actor.user!.email} invited you to join ${org} on Pipevideo as ${input.role}.\n\n` +
        `${link}\n\nThe invitation works once and expires in 7 days.\n`,
      html: `<p>${escapeHtml(actor.user!.email)} invited you to join <strong>${
        escapeHtml(org)
      }</strong> on Pipevideo as ${input.role}.</p><p><a href="${link}">Accept the invitation</a></p>`,
    });
    emailed = true;
  }
  const { hash: _h, ...view } = invite;
  return { link, invite: view, emailed };
}

export async function changeMemberRole(
  services: Services,
  actor: Actor,
  input: { user_id: string; role: Role },
) {
  requireRole(actor, "owner");
  return await setMemberRole(services.kv, actor.org!.id, input.user_id, input.role);
}

/** Removes a member; their open sessions keep working only for their other orgs. */
export async function removeMemberFromOrg(services: Services, actor: Actor, userId: string) {
  requireRole(actor, "owner");
  await removeMember(services.kv, actor.org!.id, userId);
}

export async function signOutEverywhere(services: Services, userId: string): Promise<number> {
  return await deleteUserSessions(services.kv, userId);
}
