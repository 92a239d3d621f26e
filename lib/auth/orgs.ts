import type { Services } from "../services.ts";
import { NotFound } from "../errors.ts";
import { createOrgWithOwner, getMembership } from "../db/memberships.ts";
import type { Org } from "../db/orgs.ts";
import { setSessionOrg } from "../db/sessions.ts";
import { getCookie } from "./cookies.ts";
import { SESSION_COOKIE } from "./session.ts";

/** Makes `orgId` the org this browser session shows. Not a member: 404, as for any other org. */
export async function switchOrg(
  services: Services,
  req: Request,
  userId: string,
  orgId: string,
): Promise<void> {
  if (!(await getMembership(services.kv, orgId, userId))) {
    throw new NotFound("No such organization", "org_id");
  }
  const token = getCookie(req, SESSION_COOKIE);
  if (token) await setSessionOrg(services.kv, token, orgId);
}

/** Creates an org owned by the user and switches this session to it. */
export async function createOrgAndSwitch(
  services: Services,
  req: Request,
  userId: string,
  name: string,
): Promise<Org> {
  const org = await createOrgWithOwner(services.kv, userId, { name }, services.now());
  await switchOrg(services, req, userId, org.id);
  return org;
}
