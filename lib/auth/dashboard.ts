import type { Org } from "../db/orgs.ts";
import { listUserOrgs, type Role } from "../db/memberships.ts";
import { getBalance } from "../db/ledger.ts";
import { readSession, type SignedIn } from "./session.ts";

export interface Dashboard extends SignedIn {
  orgs: { org: Org; role: Role }[];
  /** The org being viewed: the one chosen in this session if still a member, else the first. */
  current: { org: Org; role: Role } | null;
  balanceCents: number;
}

/** Everything the dashboard shell needs for one request, or null when signed out. */
export async function loadDashboard(
  kv: Deno.Kv,
  req: Request,
  nowMs = Date.now(),
): Promise<Dashboard | null> {
  const signedIn = await readSession(kv, req, nowMs);
  if (!signedIn) return null;
  const orgs = await listUserOrgs(kv, signedIn.user.id);
  const current = orgs.find((o) => o.org.id === signedIn.session.org_id) ?? orgs[0] ?? null;
  const balanceCents = current ? Number(await getBalance(kv, current.org.id)) : 0;
  return { ...signedIn, orgs, current, balanceCents };
}
