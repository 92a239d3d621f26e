import { BadRequest, Conflict, NotFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { getOrg, type Org, orgKey } from "./orgs.ts";

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
  const trimmed = name.trim();
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

async function ownerCount(kv: Deno.Kv, orgId: string): Promise<number> {
  return (await listOrgMembers(kv, orgId)).filter((m) => m.role === "owner").length;
}

/**
 * Changes a member's role. An organization always keeps an owner: the last owner cannot be
 * demoted. The check reads the member list, so two owners demoting each other at the same
 * moment is guarded by checking both entries in the commit.
 */
export async function setMemberRole(
  kv: Deno.Kv,
  orgId: string,
  userId: string,
  role: Role,
): Promise<Membership> {
  for (;;) {
    const entry = await kv.get<Membership>(byUserKey(userId, orgId));
    if (!entry.value) throw new NotFound("No such member", "user");
    if (entry.value.role === role) return entry.value;
    if (entry.value.role === "owner" && (await ownerCount(kv, orgId)) <= 1) {
      throw new Conflict("An organization needs at least one owner", "last_owner");
    }
    const m = { ...entry.value, role };
    const res = await kv.atomic().check(entry)
      .set(byUserKey(userId, orgId), m).set(byOrgKey(orgId, userId), m).commit();
    if (res.ok) return m;
  }
}

export async function removeMember(kv: Deno.Kv, orgId: string, userId: string): Promise<void> {
  const entry = await kv.get<Membership>(byUserKey(userId, orgId));
  if (!entry.value) throw new NotFound("No such member", "user");
  if (entry.value.role === "owner" && (await ownerCount(kv, orgId)) <= 1) {
    throw new Conflict("An organization needs at least one owner", "last_owner");
  }
  await kv.atomic().check(entry)
    .delete(byUserKey(userId, orgId)).delete(byOrgKey(orgId, userId)).commit();
}
