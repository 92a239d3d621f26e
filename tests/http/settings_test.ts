import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { followSeeOther, signIn } from "../support/auth.ts";
import { getOrg } from "../../lib/db/orgs.ts";

Deno.test("settings: owners rename the organization (303 back); others cannot; bad names explained", async () => {
  const server = await startTestServer();
  try {
    const owner = await signIn(server, { orgName: "Old name" });
    const member = await signIn(server, { orgId: owner.orgId, role: "member" });
    const post = (name: string, headers: Record<string, string>) =>
      fetch(server.url + "/settings", {
        method: "POST",
        headers,
        body: new URLSearchParams({ name }),
        redirect: "manual",
      });

    const page = await (await fetch(server.url + "/settings", { headers: member.headers })).text();
    assert.match(page, /data-testid="org-name">Old name</);
    assert.doesNotMatch(page, /Save name/, "members are not offered a rename");
    const denied = await post("Mine now", member.headers);
    await denied.body?.cancel();
    assert.equal(denied.status, 403);

    const bad = await post("   ", owner.headers);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Give the organization a name/);
    assert.equal((await getOrg(server.services.kv, owner.orgId))?.name, "Old name");

    const ok = await post("New name", owner.headers);
    const after = await (await followSeeOther(server, ok, owner.headers)).text();
    assert.match(after, /The organization was renamed/);
    assert.match(after, /data-testid="org-name">New name</);
    assert.equal((await getOrg(server.services.kv, owner.orgId))?.name, "New name");
  } finally {
    await server.close();
  }
});

const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const LINUX_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const sessionRows = (html: string) =>
  [...html.matchAll(/data-testid="session-row" data-session-id="([^"]+)"/g)].map((m) => m[1]);

Deno.test("settings: your sessions are listed (device, times, this one); sign out one other and all others", async () => {
  const server = await startTestServer();
  try {
    const email = `twice-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const laptop = await signIn(server, { email, userAgent: LINUX_UA });
    const phone = await signIn(server, { email, userAgent: PHONE_UA });
    const stranger = await signIn(server, { userAgent: PHONE_UA });
    assert.equal(laptop.userId, phone.userId);
    const settings = async (s: typeof laptop) => {
      const res = await fetch(server.url + "/settings", { headers: s.headers });
      assert.equal(res.status, 200);
      return await res.text();
    };
    const post = (s: typeof laptop, fields: Record<string, string>) =>
      fetch(server.url + "/settings/account", {
        method: "POST",
        headers: s.headers,
        body: new URLSearchParams(fields),
        redirect: "manual",
      });
    const works = async (s: typeof laptop) => {
      const res = await fetch(server.url + "/keys", { headers: s.headers, redirect: "manual" });
      await res.body?.cancel();
      return res.status === 200;
    };

    // Both sessions of the user, this one first and marked; the stranger's is not among them.
    const page = await settings(laptop);
    assert.deepEqual(sessionRows(page), [laptop.sessionId, phone.sessionId]);
    assert.match(page, /Chrome on Linux <span class="badge badge-active">This session/);
    assert.match(page, /Safari on iOS \(mobile\)/);
    assert.match(
      page,
      /<td data-label="Last seen"><time datetime="\d{4}-\d\d-\d\dT[^"]+"[^>]*>[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M UTC<\/time><\/td>/,
    );
    assert.doesNotMatch(page, new RegExp(stranger.sessionId));
    assert.deepEqual(sessionRows(await settings(stranger)), [stranger.sessionId]);

    // Another user's session id ends nothing (it is looked up under the poster's own sessions).
    const foreign = await post(laptop, { intent: "one", session_id: stranger.sessionId });
    await foreign.body?.cancel();
    assert.equal(foreign.status, 303);
    assert.ok(await works(stranger));

    // A cross-site form post is refused like every other dashboard form.
    const forged = await fetch(server.url + "/settings/account", {
      method: "POST",
      headers: { Cookie: laptop.cookie, "Sec-Fetch-Site": "cross-site" },
      body: new URLSearchParams({ intent: "one", session_id: phone.sessionId, back: "settings" }),
      redirect: "manual",
    });
    await forged.body?.cancel();
    assert.equal(forged.status, 403);
    assert.ok(await works(phone));

    // Sign out the phone from the laptop: 303 back to /settings, the phone's cookie stops working.
    const one = await post(laptop, {
      intent: "one",
      session_id: phone.sessionId,
      back: "settings",
    });
    assert.equal(one.headers.get("Location"), "/settings?m=signed_out_one#sessions-heading");
    const after = await (await followSeeOther(server, one, laptop.headers)).text();
    assert.match(after, /That session was signed out/);
    assert.deepEqual(sessionRows(after), [laptop.sessionId]);
    assert.equal(await works(phone), false);
    assert.ok(await works(laptop));

    // Sign out all others: two more sessions end, this one and the stranger's stay.
    const third = await signIn(server, { email });
    const fourth = await signIn(server, { email });
    assert.match(await settings(laptop), /Sign out all other sessions \(2\)/);
    const others = await post(laptop, { intent: "others", back: "account" });
    assert.equal(
      others.headers.get("Location"),
      "/settings/account?m=signed_out_others#sessions-heading",
    );
    const account = await (await followSeeOther(server, others, laptop.headers)).text();
    assert.match(account, /All your other sessions were signed out/);
    assert.deepEqual(sessionRows(account), [laptop.sessionId]);
    assert.doesNotMatch(account, /Sign out all other sessions/);
    assert.equal(await works(third), false);
    assert.equal(await works(fourth), false);
    assert.ok(await works(laptop));
    assert.ok(await works(stranger));

    // Signing out "this one" through the one-session form is not how to sign out: nothing ends.
    const self = await post(laptop, { intent: "one", session_id: laptop.sessionId });
    await self.body?.cancel();
    assert.equal(self.headers.get("Location"), "/settings/account");
    assert.ok(await works(laptop));
  } finally {
    await server.close();
  }
});
