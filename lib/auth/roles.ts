import { Forbidden } from "../errors.ts";
import type { Role } from "../db/memberships.ts";

/** member < admin < owner: members see, admins manage keys/billing/webhooks, owners members. */
const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

export function hasRole(state: { role?: Role }, min: Role): boolean {
  return state.role !== undefined && RANK[state.role] >= RANK[min];
}

/** Throws Forbidden unless the signed-in user's role in the current org is at least `min`. */
export function requireRole(state: { role?: Role }, min: Role): void {
  if (!hasRole(state, min)) {
    throw new Forbidden(`This needs the ${min} role in this organization`);
  }
}
