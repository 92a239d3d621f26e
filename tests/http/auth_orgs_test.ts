import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { followSeeOther, signIn } from "../support/auth.ts";
import { getMembership } from "../../lib/db/memberships.ts";

async function post(server: TestServer, path: string, body: Record<string, string>, h = {}) {
  return await fetch(server.url + path, {
    method: "POST",
    body: new URLSearchParams(body),
    headers: { "Sec-Fetch-Site": "same-origin", ...h },
    redirect: "manual",
  });
}

Deno.test("invites: owners invite by link; the link works once; admins cannot manage members", async () => {
  const server = await startTestServer();
  try {
    const owner = await signIn(server, { orgName: "Acme" });
    const admin = await signIn(server, { orgId: owner.orgId, role: "admin" });
    const denied = await post(
      server,
      "/settings/members",
      { intent: "invite", role: "member" },
      admin.headers,
    );
    await denied.body?.cancel();
    assert.equal(denied.status, 403);

    const bad = await post(
      server,
      "/settings/members",
      { intent: "invite", role: "king" },
      owner.headers,
    );
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id="invite-role-error"/);

    const made = await post(
      server,
      "/settings/members",
      { intent: "invite", role: "admin" },
      owner.headers,
    );
    const shown = await followSeeOther(server, made, owner.headers);
    const link = (await shown.text()).match(/data-testid="invite-link">([^<]+)</)![1];
    const path = new URL(link).pathname;

    const joiner = await signIn(server, { orgName: "Own" });
    const view = await fetch(server.url + path, { headers: joiner.headers });
    assert.match(await view.text(), /Join Acme/);
    const accepted = await post(server, path, {}, joiner.headers);
    await accepted.body?.cancel();
    assert.equal(accepted.status, 303);
    assert.equal(
      (await getMembership(server.services.kv, owner.orgId, joiner.userId))?.role,
      "admin",
    );
    // The session now shows Acme.
    const keys = await fetch(server.url + "/keys", { headers: joiner.headers });
    assert.match(await keys.text(), /as <strong>Acme<\/strong>/);

    const third = await signIn(server);
    const reused = await post(server, path, {}, third.headers);
    await reused.body?.cancel();
    assert.equal(reused.status, 404);
    assert.equal(await getMembership(server.services.kv, owner.orgId, third.userId), null);

    // The last owner cannot demote themselves: not offered, and if tried, an inline message.
    const members = await fetch(server.url + "/settings/members", { headers: owner.headers });
    const membersHtml = await members.text();
    assert.doesNotMatch(membersHtml, new RegExp(`id="role-${owner.userId}"`));
    assert.match(membersHtml, /the only owner/);
    const demote = await post(server, "/settings/members", {
      intent: "role",
      user_id: owner.userId,
      role: "member",
    }, owner.headers);
    const after = await followSeeOther(server, demote, owner.headers);
    assert.equal(after.status, 200);
    assert.match(
      await after.text(),
      /class="flash flash-error" role="alert">An organization needs/,
    );
    assert.equal(
      (await getMembership(server.services.kv, owner.orgId, owner.userId))?.role,
      "owner",
    );
  } finally {
    await server.close();
  }
});

Deno.test("sign out everywhere ends every session of the user", async () => {
  const server = await startTestServer();
  try {
    const a = await signIn(server, { email: "same@example.com" });
    const b = await signIn(server, { email: "same@example.com" });
    const res = await post(server, "/settings/account", {}, a.headers);
    await res.body?.cancel();
    assert.equal(res.headers.get("Location"), "/login?m=signed_out_everywhere");
    for (const s of [a, b]) {
      const r = await fetch(server.url + "/keys", { headers: s.headers, redirect: "manual" });
      await r.body?.cancel();
      assert.equal(r.status, 303);
    }
  } finally {
    await server.close();
  }
});

/** A tiny GitHub stand-in: authorize redirects back with a code; token checks PKCE. */
function fakeGitHub(email: string) {
  const codes = new Map<string, { challenge: string; redirect: string }>();
  let lastAuthorize: URL | null = null;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/login/oauth/authorize") {
      lastAuthorize = url;
      const code = crypto.randomUUID();
      codes.set(code, {
        challenge: url.searchParams.get("code_challenge")!,
        redirect: url.searchParams.get("redirect_uri")!,
      });
      return new Response(null, { status: 302, headers: { Location: "unused" } });
    }
    if (url.pathname === "/login/oauth/access_token") {
      const body = new URLSearchParams(await req.text());
      const saved = codes.get(body.get("code")!);
      const digest = await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(body.get("code_verifier") ?? ""),
      );
      const challenge = btoa(String.fromCharCode(...new Uint8Array(digest)))
        .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      if (!saved || saved.challenge !== challenge) {
        return Response.json({ error: "invalid_grant" }, { status: 400 });
      }
      return Response.json({ access_token: "gho_test", token_type: "bearer", scope: "user:email" });
    }
    if (req.headers.get("Authorization") !== "Bearer gho_test") {
      return new Response(null, { status: 401 });
    }
    if (url.pathname === "/user") return Response.json({ id: 42, login: "octo", name: "Octo Cat" });
    if (url.pathname === "/user/emails") {
      return Response.json([
        { email: "unverified@example.com", primary: false, verified: false },
        { email, primary: true, verified: true },
      ]);
    }
    return new Response(null, { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    codes,
    authorizeUrl: () => lastAuthorize,
    close: () => server.shutdown(),
  };
}

Deno.test("GitHub OAuth: code flow with PKCE; state mismatch refused; matched by verified email", async () => {
  const gh = fakeGitHub("octo@example.com");
  const server = await startTestServer({
    GITHUB_CLIENT_ID: "cid",
    GITHUB_CLIENT_SECRET: "csecret",
    GITHUB_OAUTH_URL: gh.url,
    GITHUB_API_URL: gh.url,
  });
  try {
    // The same person signed in by email before: OAuth finds that user.
    await signIn(server, { email: "octo@example.com", orgName: "Octo Org" });
    const login = await fetch(server.url + "/login");
    assert.match(await login.text(), /Continue with GitHub/);

    const start = await fetch(server.url + "/auth/github?next=/keys", { redirect: "manual" });
    await start.body?.cancel();
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get("Location")!);
    assert.equal(authorize.origin + authorize.pathname, `${gh.url}/login/oauth/authorize`);
    assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
    const state = authorize.searchParams.get("state")!;
    const stateCookie = start.headers.get("Set-Cookie")!.split(";")[0];
    // The "browser" visits the provider, which issues a code for this challenge.
    await (await fetch(authorize, { redirect: "manual" })).body?.cancel();
    const code = [...gh.codes.keys()].at(-1)!;

    const callback = (s: string, cookie: string) =>
      fetch(`${server.url}/auth/github/callback?code=${code}&state=${s}`, {
        headers: { Cookie: cookie },
        redirect: "manual",
      });
    const mismatch = await callback("forged-state", stateCookie);
    assert.equal(mismatch.status, 400);
    assert.match(await mismatch.text(), /state mismatch/);
    const noCookie = await callback(state, "");
    await noCookie.body?.cancel();
    assert.equal(noCookie.status, 400);

    const ok = await callback(state, stateCookie);
    await ok.body?.cancel();
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), "/keys");
    const session = ok.headers.getSetCookie().find((c) => c.startsWith("pv_session="))!;
    const keys = await fetch(server.url + "/keys", {
      headers: { Cookie: session.split(";")[0] },
    });
    assert.match(await keys.text(), /Octo Org/);

    const replay = await callback(state, stateCookie);
    await replay.body?.cancel();
    assert.equal(replay.status, 400);
  } finally {
    await server.close();
    await gh.close();
  }
});

Deno.test("OAuth providers that are not configured are not offered and 404", async () => {
  const server = await startTestServer();
  try {
    const login = await fetch(server.url + "/login");
    assert.doesNotMatch(await login.text(), /Continue with/);
    const res = await fetch(server.url + "/auth/google", { redirect: "manual" });
    await res.body?.cancel();
    assert.equal(res.status, 404);
  } finally {
    await server.close();
  }
});
