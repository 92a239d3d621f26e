import assert from "node:assert/strict";
import {
  addMembership,
  createOrgWithOwner,
  getMembership,
  listOrgMembers,
  listUserOrgs,
  removeMember,
  setMemberRole,
} from "./memberships.ts";
import { createUser, findOrCreateUserByEmail, getUserByEmail } from "./users.ts";
import { AppError } from "../errors.ts";

Deno.test("users are found by email case-insensitively; a second create conflicts", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = await findOrCreateUserByEmail(kv, { email: " Ada@Example.com " });
  const b = await findOrCreateUserByEmail(kv, { email: "ada@example.com", name: "Ada" });
  assert.equal(a.id, b.id);
  assert.equal(b.name, "Ada");
  assert.equal((await getUserByEmail(kv, "ADA@example.com"))?.id, a.id);
  await assert.rejects(
    createUser(kv, { email: "ada@example.com" }),
    (e: AppError) => e.status === 409,
  );
});

Deno.test("an org is created with its owner; members join once; the last owner stays", async () => {
  using kv = await Deno.openKv(":memory:");
  const owner = await createUser(kv, { email: "o@example.com" });
  const member = await createUser(kv, { email: "m@example.com" });
  const org = await createOrgWithOwner(kv, owner.id, { name: "  Acme  " });
  assert.equal(org.name, "Acme");
  assert.equal((await getMembership(kv, org.id, owner.id))?.role, "owner");
  await addMembership(kv, org.id, member.id, "member");
  await assert.rejects(
    addMembership(kv, org.id, member.id, "admin"),
    (e: AppError) => e.status === 409,
  );
  assert.deepEqual((await listUserOrgs(kv, member.id)).map((o) => [o.org.id, o.role]), [
    [org.id, "member"],
  ]);
  await assert.rejects(
    setMemberRole(kv, org.id, owner.id, "admin"),
    (e: AppError) => e.code === "last_owner",
  );
  await assert.rejects(
    removeMember(kv, org.id, owner.id),
    (e: AppError) => e.code === "last_owner",
  );
  await setMemberRole(kv, org.id, member.id, "owner");
  await setMemberRole(kv, org.id, owner.id, "admin");
  await removeMember(kv, org.id, owner.id);
  assert.deepEqual((await listOrgMembers(kv, org.id)).map((m) => m.user_id), [member.id]);
  assert.deepEqual(await listUserOrgs(kv, owner.id), []);
});

Deno.test("an empty or too long org name is refused and nothing is written", async () => {
  using kv = await Deno.openKv(":memory:");
  const u = await createUser(kv, { email: "u@example.com" });
  await assert.rejects(
    createOrgWithOwner(kv, u.id, { name: "  " }),
    (e: AppError) => e.param === "name",
  );
  await assert.rejects(
    createOrgWithOwner(kv, u.id, { name: "x".repeat(81) }),
    (e: AppError) => e.param === "name",
  );
  assert.deepEqual(await listUserOrgs(kv, u.id), []);
});
