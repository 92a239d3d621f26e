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

Deno.test("owners demoting or removing each other at once leave exactly one owner", async () => {
  for (let i = 0; i < 10; i++) {
    using kv = await Deno.openKv(":memory:");
    const org = await createOrgWithOwner(kv, "usr_a", { name: "Race" });
    await addMembership(kv, org.id, "usr_b", "owner");
    const results = await Promise.allSettled([
      setMemberRole(kv, org.id, "usr_a", "member"),
      i % 2 ? setMemberRole(kv, org.id, "usr_b", "admin") : removeMember(kv, org.id, "usr_b"),
    ]);
    const owners = (await listOrgMembers(kv, org.id)).filter((m) => m.role === "owner");
    assert.equal(owners.length, 1, `run ${i}`);
    // One change landed; the other was refused, not reported as done.
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, `run ${i}`);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.equal((refused.reason as AppError).code, "last_owner");
  }
});

Deno.test("three owners all stepping down at once: one stays owner, members stay consistent", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = await createOrgWithOwner(kv, "usr_a", { name: "Race" });
  await addMembership(kv, org.id, "usr_b", "owner");
  await addMembership(kv, org.id, "usr_c", "owner");
  await addMembership(kv, org.id, "usr_d", "member");
  const results = await Promise.allSettled([
    removeMember(kv, org.id, "usr_a"),
    setMemberRole(kv, org.id, "usr_b", "member"),
    removeMember(kv, org.id, "usr_c"),
    setMemberRole(kv, org.id, "usr_d", "owner"),
    removeMember(kv, org.id, "usr_d"),
  ]);
  const members = await listOrgMembers(kv, org.id);
  assert.ok(members.some((m) => m.role === "owner"), JSON.stringify({ results, members }));
  // Both directions agree after the race.
  for (const m of members) assert.deepEqual(await getMembership(kv, org.id, m.user_id), m);
  for (const u of ["usr_a", "usr_b", "usr_c", "usr_d"]) {
    const m = await getMembership(kv, org.id, u);
    assert.equal(Boolean(m), members.some((x) => x.user_id === u), u);
  }
  const owners = members.filter((m) => m.role === "owner");
  const last = await Promise.allSettled(owners.map((m) => removeMember(kv, org.id, m.user_id)));
  const reasons = last.flatMap((r) => r.status === "rejected" ? [(r.reason as AppError).code] : []);
  assert.deepEqual(reasons, ["last_owner"]);
  assert.ok((await listOrgMembers(kv, org.id)).some((m) => m.role === "owner"));
});
