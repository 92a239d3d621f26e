import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { followSeeOther, signIn } from "../support/auth.ts";
import { listApiKeys } from "../../lib/db/apikeys.ts";

const SAME = { "Sec-Fetch-Site": "same-origin" };

function form(data: Record<string, string>) {
  return new URLSearchParams(data);
}

async function post(server: TestServer, path: string, body: Record<string, string>, h = {}) {
  return await fetch(server.url + path, {
    method: "POST",
    body: form(body),
    headers: { ...SAME, ...h },
    redirect: "manual",
  });
}

function magicLinkFromLogs(server: TestServer): string {
  const entry = server.logs.findLast((l) => typeof l.link === "string");
  assert.ok(entry, "the magic link was logged");
  return new URL(String(entry.link)).pathname + new URL(String(entry.link)).search;
}

Deno.test("signed out: dashboard pages redirect to /login with next", async () => {
  const server = await startTestServer();
  try {
    const res = await fetch(server.url + "/keys?x=1", { redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("Location"), "/login?next=%2Fkeys%3Fx%3D1");
  } finally {
    await server.close();
  }
});

Deno.test("magic link: sign in, single use, session cookie flags, new user goes to /orgs/new", async () => {
  const server = await startTestServer();
  try {
    const sent = await post(server, "/login", { email: "New@Example.com", next: "/keys" });
    assert.equal(sent.status, 200);
    assert.match(await sent.text(), /the sign-in link\s+for <strong>new@example.com/i);
    const path = magicLinkFromLogs(server);

    const confirm = await fetch(server.url + path);
    assert.match(await confirm.text(), /new@example\.com/);
    const token = new URL(server.url + path).searchParams.get("token")!;
    const done = await post(server, "/auth/magic", { token });
    await done.body?.cancel();
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("Location"), "/keys");
    const setCookie = done.headers.get("Set-Cookie")!;
    assert.match(setCookie, /^pv_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=/);
    assert.doesNotMatch(setCookie, /Secure/);
    const cookie = setCookie.split(";")[0];

    const again = await post(server, "/auth/magic", { token });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /expired or was already used/);

    const keys = await fetch(server.url + "/keys", {
      headers: { Cookie: cookie },
      redirect: "manual",
    });
    await keys.body?.cancel();
    assert.equal(keys.status, 303);
    assert.equal(keys.headers.get("Location"), "/orgs/new");

    const bad = await post(server, "/orgs/new", { name: "  " }, { Cookie: cookie });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Give the organization a name/);
    const made = await post(server, "/orgs/new", { name: "Acme" }, { Cookie: cookie });
    await made.body?.cancel();
    assert.equal(made.headers.get("Location"), "/playground");
    const page = await fetch(server.url + "/keys", { headers: { Cookie: cookie } });
    const html = await page.text();
    assert.equal(page.status, 200);
    // Development grants a new organization its starting credits.
    assert.match(html, /data-testid="balance">\$5\.00</);
    assert.match(html, /No API keys yet/);
    assert.equal(page.headers.get("Cache-Control"), "no-store");

    const out = await post(server, "/logout", {}, { Cookie: cookie });
    await out.body?.cancel();
    assert.match(out.headers.get("Set-Cookie")!, /pv_session=; .*Max-Age=0/);
    const after = await fetch(server.url + "/keys", {
      headers: { Cookie: cookie },
      redirect: "manual",
    });
    await after.body?.cancel();
    assert.equal(after.status, 303);
    assert.match(after.headers.get("Location")!, /^\/login/);
  } finally {
    await server.close();
  }
});

Deno.test("login: a bad email gets an error next to the field; an open redirect is dropped", async () => {
  const server = await startTestServer();
  try {
    const res = await post(server, "/login", { email: "not-an-email" });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /id="email-error"/);
    assert.match(html, /aria-invalid="true"/);
    assert.ok(!server.logs.some((l) => l.link), "no link was made");

    const sent = await post(server, "/login", { email: "a@example.com", next: "//evil.example" });
    await sent.body?.cancel();
    const token = new URL(server.url + magicLinkFromLogs(server)).searchParams.get("token")!;
    const done = await post(server, "/auth/magic", { token });
    await done.body?.cancel();
    assert.equal(done.headers.get("Location"), "/playground");
  } finally {
    await server.close();
  }
});

Deno.test("login attempts are limited per email (429 page)", async () => {
  const server = await startTestServer();
  try {
    for (let i = 0; i < 5; i++) {
      const ok = await post(server, "/login", { email: "spam@example.com" });
      await ok.body?.cancel();
      assert.equal(ok.status, 200);
    }
    const limited = await post(server, "/login", { email: "SPAM@example.com" });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("Retry-After")) > 0);
    assert.match(await limited.text(), /Rate limit exceeded/);
    const other = await post(server, "/login", { email: "other@example.com" });
    await other.body?.cancel();
    assert.equal(other.status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("keys: roles are checked on the server; another org's key is 404; CSRF refused", async () => {
  const server = await startTestServer();
  try {
    const admin = await signIn(server, { role: "admin" });
    const member = await signIn(server, { orgId: admin.orgId, role: "member" });
    const stranger = await signIn(server);

    const noName = await post(server, "/keys", { name: "" }, admin.headers);
    assert.equal(noName.status, 400);
    assert.match(await noName.text(), /id="key-name-error"/);
    const past = await post(
      server,
      "/keys",
      { name: "x", expires_on: "2001-01-01" },
      admin.headers,
    );
    assert.equal(past.status, 400);
    assert.match(await past.text(), /Pick a date in the future/);
    assert.equal((await listApiKeys(server.services.kv, admin.orgId)).length, 0);

    const created = await post(server, "/keys", { name: "prod" }, admin.headers);
    const shown = await followSeeOther(server, created, admin.headers);
    const secret = (await shown.text()).match(/data-testid="new-key-secret">(pv_[0-9a-f]+)</)
      ?.[1];
    assert.ok(secret);

    const memberPage = await fetch(server.url + "/keys", { headers: member.headers });
    const memberHtml = await memberPage.text();
    assert.match(memberHtml, /prod/);
    assert.doesNotMatch(memberHtml, /Create key/);
    const forbidden = await post(server, "/keys", { name: "sneaky" }, member.headers);
    await forbidden.body?.cancel();
    assert.equal(forbidden.status, 403);

    const keyId = (await listApiKeys(server.services.kv, admin.orgId))[0].id;
    const cross = await post(server, `/keys/${keyId}/revoke`, {}, {
      Cookie: admin.cookie,
      "Sec-Fetch-Site": "cross-site",
    });
    await cross.body?.cancel();
    assert.equal(cross.status, 403);
    const foreign = await fetch(server.url + `/keys/${keyId}/revoke`, {
      headers: stranger.headers,
    });
    await foreign.body?.cancel();
    assert.equal(foreign.status, 404);
    const foreignPost = await post(server, `/keys/${keyId}/revoke`, {}, stranger.headers);
    await foreignPost.body?.cancel();
    assert.equal(foreignPost.status, 404);
    const memberRevoke = await post(server, `/keys/${keyId}/revoke`, {}, member.headers);
    await memberRevoke.body?.cancel();
    assert.equal(memberRevoke.status, 403);
    assert.equal((await listApiKeys(server.services.kv, admin.orgId))[0].revoked_at, null);

    const confirm = await fetch(server.url + `/keys/${keyId}/revoke`, { headers: admin.headers });
    assert.match(await confirm.text(), /Revoke key/);
    const revoked = await post(server, `/keys/${keyId}/revoke`, {}, admin.headers);
    await revoked.body?.cancel();
    assert.equal(revoked.headers.get("Location"), "/keys?m=revoked");
    assert.notEqual((await listApiKeys(server.services.kv, admin.orgId))[0].revoked_at, null);

    // Switching to an org the user is not in is refused like any unknown org.
    const sw = await post(server, "/orgs/switch", { org_id: admin.orgId }, stranger.headers);
    await sw.body?.cancel();
    assert.equal(sw.status, 404);
  } finally {
    await server.close();
  }
});
