import { BadRequest, Conflict, NotFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import { getOrg, type Org, orgKey } from "./orgs.ts";
import { singleLineName } from "../names.ts";

/**
 * Who belongs to which organization, in both directions, written together:
 * ["memberships_by_user", userId, orgId] and ["memberships_by_org", orgId, userId].
 */
export type Role = "owner" | "admin" | "member";

export const ROLES: readonly Role[] = ["member", "admin", "owner"];

export interface Membership {
  org_id: string;
  user_id: string;
  role: Role;
  created_at: number; // ms
}

const byUserKey = (userId: string, orgId: string): Deno.KvKey => [
  "memberships_by_user",
  userId,
  orgId,
];
const byOrgKey = (orgId: string, userId: string): Deno.KvKey => [
  "memberships_by_org",
  orgId,
  userId,
];

export const MAX_ORG_NAME = 80;

function cleanOrgName(name: string): string {
  const trimmed = singleLineName(name);
  if (!trimmed) throw new BadRequest("Give the organization a name", "name");
  if (trimmed.length > MAX_ORG_NAME) {
    throw new BadRequest(`Keep the name under ${MAX_ORG_NAME} characters`, "name");
  }
  return trimmed;
}

/** Creates an organization with its first owner in one commit. */
export async function createOrgWithOwner(
  kv: Deno.Kv,
  userId: string,
  input: { name: string },
  nowMs = Date.now(),
): Promise<Org> {
  const org: Org = { id: newId("org", nowMs), name: cleanOrgName(input.name), created_at: nowMs };
  const m: Membership = { org_id: org.id, user_id: userId, role: "owner", created_at: nowMs };
  const res = await kv.atomic()
    .check({ key: orgKey(org.id), versionstamp: null })
    .set(orgKey(org.id), org)
    .set(byUserKey(userId, org.id), m)
    .set(byOrgKey(org.id, userId), m)
    .commit();
  if (!res.ok) throw new Error(`org id collision: ${org.id}`);
  return org;
}

/** Adds a user to an org; a user already in it keeps their role (Conflict). */
export async function addMembership(
  kv: Deno.Kv,
  orgId: string,
  userId: string,
  role: Role,
  nowMs = Date.now(),
): Promise<Membership> {
  if (!(await getOrg(kv, orgId))) throw new NotFound("No such organization", "org");
  const m: Membership = { org_id: orgId, user_id: userId, role, created_at: nowMs };
  const res = await kv.atomic()
    .check({ key: byUserKey(userId, orgId), versionstamp: null })
    .set(byUserKey(userId, orgId), m)
    .set(byOrgKey(orgId, userId), m)
    .commit();
  if (!res.ok) throw new Conflict("Already a member of this organization", "already_member");
  return m;
}

export async function getMembership(
  kv: Deno.Kv,
  orgId: string,
  userId: string,
): Promise<Membership | null> {
  return (await kv.get<Membership>(byUserKey(userId, orgId))).value;
}

/** The user's organizations with their role, oldest membership first. */
export async function listUserOrgs(
  kv: Deno.Kv,
  userId: string,
): Promise<{ org: Org; role: Role }[]> {
  const ms: Membership[] = [];
  for await (const e of kv.list<Membership>({ prefix: ["memberships_by_user", userId] })) {
    ms.push(e.value);
  }
  ms.sort((a, b) => a.created_at - b.created_at);
  const out: { org: Org; role: Role }[] = [];
  for (let i = 0; i < ms.length; i += 10) {
    const orgs = await kv.getMany<Org[]>(ms.slice(i, i + 10).map((m) => orgKey(m.org_id)));
    orgs.forEach((e, j) => {
      if (e.value) out.push({ org: e.value, role: ms[i + j].role });
    });
  }
  return out;
}

export async function listOrgMembers(kv: Deno.Kv, orgId: string): Promise<Membership[]> {
  const out: Membership[] = [];
  for await (const e of kv.list<Membership>({ prefix: ["memberships_by_org", orgId] })) {
    out.push(e.value);
  }
  return out.sort((a, b) => a.created_at - b.created_at);
}

/**
 * Starts the commit that takes `userId` out of the owners (demotion or removal): it checks the
 * member's two entries and, when they are an owner, the org entry of another owner who stays.
 * With that witness checked in the same commit, whatever else commits meanwhile, the witness
 * was still an owner when this change landed, so the org keeps one. (One witness is enough; an
 * org with many owners never meets KV's limit on checks per commit.)
 */
async function guardedChange(
  kv: Deno.Kv,
  orgId: string,
  userId: string,
): Promise<{ member: Membership; atomic: Deno.AtomicOperation }> {
  const [byUser, byOrg] = await kv.getMany<[Membership, Membership]>([
    byUserKey(userId, orgId),
    byOrgKey(orgId, userId),
  ]);
  if (!byUser.value || !byOrg.value) throw new NotFound("No such member", "user");
  const atomic = kv.atomic().check(byUser).check(byOrg);
  if (byUser.value.role === "owner") {
    let witness: Deno.KvEntry<Membership> | null = null;
    for await (const e of kv.list<Membership>({ prefix: ["memberships_by_org", orgId] })) {
      if (e.value.user_id !== userId && e.value.role === "owner") {
        witness = e;
        break;
      }
    }
    if (!witness) throw new Conflict("An organization needs at least one owner", "last_owner");
    atomic.check(witness);
  }
  return { member: byUser.value, atomic };
}

/**
 * Changes a member's role. An organization always keeps an owner: the last owner cannot be
 * demoted, also when two owners demote or remove each other at the same moment (a commit that
 * raced another change is retried on fresh reads).
 */
export async function setMemberRole(
  kv: Deno.Kv,
  orgId: string,
  userId: string,
  role: Role,
): Promise<Membership> {
  for (;;) {
    const current = await getMembership(kv, orgId, userId);
    if (!current) throw new NotFound("No such member", "user");
    if (current.role === role) return current;
    // Promotion to owner needs no witness; guardedChange only asks for one from an owner.
    const { member, atomic } = await guardedChange(kv, orgId, userId);
    if (member.role === role) continue;
    const m = { ...member, role };
    const res = await atomic.set(byUserKey(userId, orgId), m).set(byOrgKey(orgId, userId), m)
      .commit();
    if (res.ok) return m;
  }
}

/** Removes a member; the last owner cannot be removed (same guarantee as setMemberRole). */
export async function removeMember(kv: Deno.Kv, orgId: string, userId: string): Promise<void> {
  for (;;) {
    const { atomic } = await guardedChange(kv, orgId, userId);
    const res = await atomic.delete(byUserKey(userId, orgId)).delete(byOrgKey(orgId, userId))
      .commit();
    if (res.ok) return;
  }
}

/**
 * Invitations: a link (single use, expiring) optionally addressed to an email. Stored under the
 * SHA-256 of the token: ["invites", hash]; listed per org as ["org_invites", orgId, inviteId].
 */
export interface Invite {
  id: string;
  org_id: string;
  role: Role;
  email: string | null;
  invited_by: string;
  created_at: number; // ms
  expires_at: number; // ms
  hash: string;
}

export const INVITE_TTL_MS = 7 * 24 * 3600_000;
const inviteKey = (hash: string): Deno.KvKey => ["invites", hash];
const orgInviteKey = (orgId: string, inviteId: string): Deno.KvKey => [
  "org_invites",
  orgId,
  inviteId,
];

export async function createInvite(
  kv: Deno.Kv,
  input: { orgId: string; role: Role; email?: string | null; invitedBy: string },
  nowMs = Date.now(),
): Promise<{ token: string; invite: Invite }> {
  const token = randomToken(24);
  const hash = sha256Hex(token);
  const invite: Invite = {
    id: newId("inv", nowMs),
    org_id: input.orgId,
    role: input.role,
    email: input.email?.trim().toLowerCase() || null,
    invited_by: input.invitedBy,
    created_at: nowMs,
    expires_at: nowMs + INVITE_TTL_MS,
    hash,
  };
  await kv.atomic()
    .set(inviteKey(hash), invite, { expireIn: INVITE_TTL_MS })
    .set(orgInviteKey(input.orgId, invite.id), hash, { expireIn: INVITE_TTL_MS })
    .commit();
  return { token, invite };
}

export async function getInvite(
  kv: Deno.Kv,
  token: string,
  nowMs = Date.now(),
): Promise<Invite | null> {
  if (!/^[0-9a-f]{48}$/.test(token)) return null;
  const invite = (await kv.get<Invite>(inviteKey(sha256Hex(token)))).value;
  return invite && invite.expires_at > nowMs ? invite : null;
}

export async function listInvites(kv: Deno.Kv, orgId: string, nowMs = Date.now()) {
  const hashes: string[] = [];
  for await (const e of kv.list<string>({ prefix: ["org_invites", orgId] })) hashes.push(e.value);
  const out: Invite[] = [];
  for (let i = 0; i < hashes.length; i += 10) {
    for (const e of await kv.getMany<Invite[]>(hashes.slice(i, i + 10).map(inviteKey))) {
      if (e.value && e.value.expires_at > nowMs) out.push(e.value);
    }
  }
  return out;
}

export async function revokeInvite(kv: Deno.Kv, orgId: string, inviteId: string) {
  const hash = (await kv.get<string>(orgInviteKey(orgId, inviteId))).value;
  if (!hash) throw new NotFound("No such invitation", "id");
  await kv.atomic().delete(inviteKey(hash)).delete(orgInviteKey(orgId, inviteId)).commit();
}

/**
 * Accepts an invitation: the invite is used up and the membership written in one commit.
 * An invite addressed to an email only works for the user with that email.
 */
export async function acceptInvite(
  kv: Deno.Kv,
  token: string,
  user: { id: string; email: string },
  nowMs = Date.now(),
): Promise<Membership> {
  if (!/^[0-9a-f]{48}$/.test(token)) throw new NotFound("This invitation is not valid", "token");
  const key = inviteKey(sha256Hex(token));
  const entry = await kv.get<Invite>(key);
  const invite = entry.value;
  if (!invite || invite.expires_at <= nowMs) {
    throw new NotFound("This invitation has expired or was already used", "token");
  }
  if (invite.email && invite.email !== user.email) {
    throw new BadRequest(`This invitation is for ${invite.email}`, "email");
  }
  if (await getMembership(kv, invite.org_id, user.id)) {
    throw new Conflict("You are already a member of this organization", "already_member");
  }
  const m: Membership = {
    org_id: invite.org_id,
    user_id: user.id,
    role: invite.role,
    created_at: nowMs,
  };
  const res = await kv.atomic()
    .check(entry)
    .check({ key: byUserKey(user.id, invite.org_id), versionstamp: null })
    .delete(key)
    .delete(orgInviteKey(invite.org_id, invite.id))
    .set(byUserKey(user.id, invite.org_id), m)
    .set(byOrgKey(invite.org_id, user.id), m)
    .commit();
  if (!res.ok) throw new NotFound("This invitation has expired or was already used", "token");
  return m;
}
