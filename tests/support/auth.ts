import type { TestServer } from "./server.ts";
import { findOrCreateUserByEmail } from "../../lib/db/users.ts";
import {
  addMembership,
  createOrgWithOwner,
  type Role,
  setMemberRole,
} from "../../lib/db/memberships.ts";
import { createSession } from "../../lib/db/sessions.ts";
import { SESSION_COOKIE } from "../../lib/auth/session.ts";

let counter = 0;

/**
 * Signs a user in directly through the lib functions: creates the user, then a new org they own
 * (or joins `orgId` with `role`), and a session. Returns what a fetch needs to act as them.
 */
export async function signIn(
  server: TestServer,
  opts: {
    email?: string;
    role?: Role;
    orgName?: string;
    orgId?: string;
    /** Recorded on the session, as a browser's sign-in would. */
    userAgent?: string;
  } = {},
): Promise<{
  cookie: string;
  userId: string;
  orgId: string;
  sessionId: string;
  headers: Record<string, string>;
}> {
  const kv = server.services.kv;
  const email = opts.email ?? `user${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const user = await findOrCreateUserByEmail(kv, { email });
  let orgId: string;
  if (opts.orgId) {
    await addMembership(kv, opts.orgId, user.id, opts.role ?? "member");
    orgId = opts.orgId;
  } else {
    const org = await createOrgWithOwner(kv, user.id, { name: opts.orgName ?? "Test Org" });
    orgId = org.id;
    // A role below owner in a fresh org is still useful to test; owner is added first.
    if (opts.role && opts.role !== "owner") {
      const owner = await findOrCreateUserByEmail(kv, { email: `owner-${email}` });
      await addMembership(kv, orgId, owner.id, "owner");
      await setMemberRole(kv, orgId, user.id, opts.role);
    }
  }
  const { token, session } = await createSession(kv, user.id, {
    orgId,
    userAgent: opts.userAgent,
  });
  const cookie = `${SESSION_COOKIE}=${token}`;
  return {
    cookie,
    userId: user.id,
    orgId,
    sessionId: session.id,
    headers: { Cookie: cookie, "Sec-Fetch-Site": "same-origin" },
  };
}

/** A form POST's 303 followed as a browser would: GET its Location with the same headers. */
export async function followSeeOther(
  server: TestServer,
  res: Response,
  headers: Record<string, string>,
): Promise<Response> {
  await res.body?.cancel();
  if (res.status !== 303) throw new Error(`expected 303, got ${res.status}`);
  return await fetch(new URL(res.headers.get("Location")!, server.url), { headers });
}
