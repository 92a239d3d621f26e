import assert from "node:assert/strict";
import {
  countUserSessions,
  createSession,
  deleteSession,
  deleteUserSession,
  deleteUserSessions,
  getSession,
  listUserSessions,
  SESSION_TTL_MS,
  setSessionOrg,
} from "./sessions.ts";

const T0 = Date.UTC(2026, 0, 1);

Deno.test("a session is found by its token, slides on use and ends at expiry", async () => {
  using kv = await Deno.openKv(":memory:");
  const { token, session } = await createSession(kv, "usr_1", { nowMs: T0 });
  assert.equal((await getSession(kv, token, T0 + 1000))?.id, session.id);
  assert.equal(await getSession(kv, token.replace(/.$/, "0") + "x", T0), null);
  // Used after 20 days: the expiry moves to 30 days from then.
  const slid = await getSession(kv, token, T0 + 20 * 86400_000);
  assert.equal(slid?.expires_at, T0 + 20 * 86400_000 + SESSION_TTL_MS);
  // Unused past the slid expiry: gone.
  assert.equal(await getSession(kv, token, T0 + 20 * 86400_000 + SESSION_TTL_MS + 1), null);
  assert.equal(await getSession(kv, token, T0 + 20 * 86400_000 + 1000), null);
});

Deno.test("the stored record is keyed by a hash, never by the cookie token", async () => {
  using kv = await Deno.openKv(":memory:");
  const { token } = await createSession(kv, "usr_1");
  for await (const e of kv.list({ prefix: [] })) {
    assert.ok(!JSON.stringify(e.key).includes(token));
    assert.ok(!JSON.stringify(e.value).includes(token));
  }
});

Deno.test("sign out ends one session; sign out everywhere ends all of them", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = await createSession(kv, "usr_1");
  const b = await createSession(kv, "usr_1");
  const other = await createSession(kv, "usr_2");
  await setSessionOrg(kv, a.token, "org_x");
  assert.equal((await getSession(kv, a.token))?.org_id, "org_x");
  await deleteSession(kv, a.token);
  assert.equal(await getSession(kv, a.token), null);
  assert.ok(await getSession(kv, b.token));
  assert.equal(await deleteUserSessions(kv, "usr_1"), 1);
  assert.equal(await getSession(kv, b.token), null);
  assert.equal(await countUserSessions(kv, "usr_1"), 0);
  assert.ok(await getSession(kv, other.token));
});

Deno.test("a user's sessions are listed (last seen to the minute); one or all others end", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = await createSession(kv, "usr_1", { nowMs: T0, userAgent: "UA ".repeat(200) });
  const b = await createSession(kv, "usr_1", { nowMs: T0 + 1000 });
  const c = await createSession(kv, "usr_1", { nowMs: T0 + 2000 });
  const other = await createSession(kv, "usr_2", { nowMs: T0 });
  assert.equal(a.session.user_agent?.length, 256);
  await getSession(kv, a.token, T0 + 90_000); // used a minute and a half later: last seen moves
  const listed = await listUserSessions(kv, "usr_1", T0 + 90_000);
  assert.deepEqual(listed.map((s) => s.id), [a.session.id, c.session.id, b.session.id]);
  assert.equal(listed[0].last_seen_at, T0 + 90_000);
  assert.equal(listed[0].expires_at, T0 + 90_000 + SESSION_TTL_MS);

  assert.equal(await deleteUserSession(kv, "usr_1", other.session.id), false);
  assert.ok(await getSession(kv, other.token, T0));
  assert.equal(await deleteUserSession(kv, "usr_1", b.session.id), true);
  assert.equal(await getSession(kv, b.token, T0), null);
  assert.equal(await deleteUserSessions(kv, "usr_1", { except: a.session.id }), 1);
  assert.equal(await getSession(kv, c.token, T0), null);
  assert.deepEqual((await listUserSessions(kv, "usr_1", T0)).map((s) => s.id), [a.session.id]);
  assert.ok(await getSession(kv, other.token, T0));
});
