import { NotFound } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { singleLineName } from "../names.ts";

/** Organizations: the unit that owns keys, credits and generations. Memberships come later. */
export interface Org {
  id: string;
  name: string;
  created_at: number; // ms
}

export const orgKey = (orgId: string): Deno.KvKey => ["orgs", orgId];

export async function createOrg(
  kv: Deno.Kv,
  input: { name: string },
  nowMs = Date.now(),
): Promise<Org> {
  const org: Org = { id: newId("org", nowMs), name: singleLineName(input.name), created_at: nowMs };
  const res = await kv.atomic()
    .check({ key: orgKey(org.id), versionstamp: null })
    .set(orgKey(org.id), org)
    .commit();
  if (!res.ok) throw new Error(`org id collision: ${org.id}`);
  return org;
}

export async function getOrg(kv: Deno.Kv, orgId: string): Promise<Org | null> {
  if (!isId("org", orgId)) return null; // ids come from URLs; an over-long key is a KV error
  return (await kv.get<Org>(orgKey(orgId))).value;
}

export async function requireOrg(kv: Deno.Kv, orgId: string): Promise<Org> {
  const org = await getOrg(kv, orgId);
  if (!org) {
    throw new NotFound(
      isId("org", orgId) ? `No organization ${orgId}` : "No such organization",
      "org",
    );
  }
  return org;
}

/** Every organization's id, oldest first (ids are time-ordered ULIDs). For operator checks. */
export async function listOrgIds(kv: Deno.Kv): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of kv.list<Org>({ prefix: ["orgs"] })) {
    ids.push(String(e.key[1]));
  }
  return ids;
}

/** Organizations, newest first, up to `limit` (the operator console's list and search). */
export async function listOrgs(kv: Deno.Kv, limit: number): Promise<Org[]> {
  const out: Org[] = [];
  for await (const e of kv.list<Org>({ prefix: ["orgs"] }, { reverse: true, limit })) {
    out.push(e.value);
  }
  return out;
}

/** Renames an organization (its name is shown to members and in invitations). */
export async function renameOrg(kv: Deno.Kv, orgId: string, name: string): Promise<Org> {
  for (;;) {
    const entry = await kv.get<Org>(orgKey(orgId));
    if (!entry.value) throw new NotFound(`No organization ${orgId}`, "org");
    const org = { ...entry.value, name: name.trim() };
    if ((await kv.atomic().check(entry).set(orgKey(orgId), org).commit()).ok) return org;
  }
}
