import assert from "node:assert/strict";
import { postForm, startTestServer, type TestServer } from "../support/server.ts";
import { call, fundedOrg } from "../support/api.ts";
import { kvFileWithDeadJob } from "../support/dead_job.ts";
import { openKv } from "../../lib/db/kv.ts";

const ADMIN_TOKEN = "admin-token-0123456789abcdef";

const get = (server: TestServer, path: string, cookie?: string) =>
  fetch(`${server.url}${path}`, { headers: cookie ? { Cookie: cookie } : {}, redirect: "manual" });

/** Signs in through the form; returns the session cookie (name=value). */
async function signIn(server: TestServer): Promise<string> {
  const res = await postForm(server, "/admin/login", {}, { token: ADMIN_TOKEN });
  await res.body?.cancel();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("Location"), "/admin");
  const setCookie = res.headers.get("Set-Cookie") ?? "";
  // A session token of its own, never the ADMIN_TOKEN, sent back to /admin only.
  assert.match(setCookie, /^pv_operator=[0-9a-f]{64}; Path=\/admin; HttpOnly; SameSite=Strict/);
  assert.ok(!setCookie.includes(ADMIN_TOKEN));
  return setCookie.split(";")[0];
}

const csrfOf = (html: string) => /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1] ?? "";

const admin = (server: TestServer, method: string, path: string, body?: unknown) =>
  call(server.url, method, path, { body, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });

Deno.test("operator console: refused without a session, and absent without ADMIN_TOKEN", async () => {
  const off = await startTestServer();
  try {
    for (const path of ["/admin", "/admin/login"]) {
      const res = await get(off, path);
      await res.body?.cancel();
      assert.equal(res.status, 404, path);
    }
  } finally {
    await off.close();
  }
  const server = await startTestServer({ ADMIN_TOKEN });
  try {
    for (const path of ["/admin", "/admin/jobs", "/admin/generations", "/admin/routes"]) {
      const res = await get(server, path);
      await res.body?.cancel();
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("Location"), "/admin/login");
    }
    // A made-up cookie is no session.
    const forged = await get(server, "/admin", `pv_operator=${"ab".repeat(32)}`);
    await forged.body?.cancel();
    assert.equal(forged.status, 303);
    // The ADMIN_TOKEN itself as the cookie is no session either.
    const tokenCookie = await get(server, "/admin", `pv_operator=${ADMIN_TOKEN}`);
    await tokenCookie.body?.cancel();
    assert.equal(tokenCookie.status, 303);

    const org = await admin(server, "POST", "/admin/v1/orgs", { name: "Unsigned" });
    const post = await postForm(server, `/admin/orgs/${org.body.id}`, {}, {
      amount: "10",
      reason: "no session",
    });
    await post.body?.cancel();
    assert.equal(post.status, 401);

    const wrong = await postForm(server, "/admin/login", {}, { token: "not-the-admin-token-xx" });
    assert.equal(wrong.status, 401);
    assert.match(
      await wrong.text(),
      /not this server&#39;s ADMIN_TOKEN|not this server's ADMIN_TOKEN/,
    );
    assert.equal(wrong.headers.get("Set-Cookie"), null);
    assert.equal(
      (await admin(server, "GET", `/admin/v1/orgs/${org.body.id}/ledger`)).body.data.length,
      0,
    );
  } finally {
    await server.close();
  }
});

Deno.test("operator console: lists an org made through the admin API, and finds it by search", async () => {
  const server = await startTestServer({ ADMIN_TOKEN });
  try {
    const made = await admin(server, "POST", "/admin/v1/orgs", { name: "Acme Studios" });
    await admin(server, "POST", "/admin/v1/orgs", { name: "Other Org" });
    const cookie = await signIn(server);

    const list = await get(server, "/admin", cookie);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get("Cache-Control"), "no-store");
    const html = await list.text();
    assert.match(html, /Acme Studios/);
    assert.ok(html.includes(`/admin/orgs/${made.body.id}`));

    const found = await (await get(server, "/admin?q=acme", cookie)).text();
    assert.match(found, /Acme Studios/);
    assert.doesNotMatch(found, /Other Org/);
    const byId = await (await get(server, `/admin?q=${made.body.id}`, cookie)).text();
    assert.match(byId, /Acme Studios/);
    assert.match(
      await (await get(server, "/admin?q=nomatch", cookie)).text(),
      /No organization matches/,
    );

    for (const path of ["/admin/jobs", "/admin/generations", "/admin/routes"]) {
      const res = await get(server, path, cookie);
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
    }
  } finally {
    await server.close();
  }
});

Deno.test("operator console: a credit grant shows in the org's ledger and balance, with its operator", async () => {
  const server = await startTestServer({ ADMIN_TOKEN });
  try {
    const org = await admin(server, "POST", "/admin/v1/orgs", { name: "Granted" });
    const path = `/admin/orgs/${org.body.id}`;
    const cookie = await signIn(server);
    const csrf = csrfOf(await (await get(server, path, cookie)).text());
    assert.ok(csrf);

    // Without the session's CSRF token: refused, nothing written.
    const noCsrf = await postForm(server, path, { Cookie: cookie }, {
      amount: "12.34",
      reason: "goodwill",
    });
    await noCsrf.body?.cancel();
    assert.equal(noCsrf.status, 403);
    // Without a reason: refused with the reason named, nothing written.
    const noReason = await postForm(server, path, { Cookie: cookie }, {
      csrf,
      amount: "12.34",
      reason: "  ",
    });
    assert.equal(noReason.status, 400);
    assert.match(await noReason.text(), /A reason is required/);
    assert.equal(
      (await admin(server, "GET", `/admin/v1/orgs/${org.body.id}/ledger`)).body.balance_cents,
      0,
    );

    const granted = await postForm(server, path, { Cookie: cookie }, {
      csrf,
      amount: "12.34",
      reason: "goodwill for the outage",
    });
    await granted.body?.cancel();
    assert.equal(granted.status, 303);
    assert.equal(granted.headers.get("Location"), `${path}?m=adjusted`);

    const ledger = await admin(server, "GET", `/admin/v1/orgs/${org.body.id}/ledger`);
    assert.equal(ledger.body.balance_cents, 1234);
    assert.equal(ledger.body.data.length, 1);
    const [entry] = ledger.body.data;
    assert.equal(entry.kind, "adjustment");
    assert.equal(entry.amount_cents, 1234);
    assert.equal(entry.reason, "goodwill for the outage");
    assert.match(entry.actor, /^operator:ops_[0-9A-Z]{26}$/);

    const page = await (await get(server, `${path}?m=adjusted`, cookie)).text();
    assert.match(page, /data-testid="balance">\$12\.34</);
    assert.match(page, /goodwill for the outage/);
    assert.ok(page.includes(entry.actor));

    // Taking back more than the balance is refused and changes nothing.
    const over = await postForm(server, path, { Cookie: cookie }, {
      csrf,
      amount: "-20",
      reason: "too much",
    });
    assert.equal(over.status, 400);
    await over.body?.cancel();
    assert.equal(
      (await admin(server, "GET", `/admin/v1/orgs/${org.body.id}/ledger`)).body.balance_cents,
      1234,
    );

    // Signing out ends the session.
    const out = await postForm(server, "/admin/logout", { Cookie: cookie }, { csrf });
    await out.body?.cancel();
    assert.equal(out.status, 303);
    const after = await get(server, path, cookie);
    await after.body?.cancel();
    assert.equal(after.status, 303);
  } finally {
    await server.close();
  }
});

Deno.test("operator console: a dead job is listed with its error and Retry puts it back to run", async () => {
  const path = await kvFileWithDeadJob();
  const server = await startTestServer({ ADMIN_TOKEN }, { kv: await openKv(path) });
  try {
    const cookie = await signIn(server);
    const html = await (await get(server, "/admin/jobs", cookie)).text();
    assert.match(html, /<span class="badge badge-revoked">dead<\/span>/);
    assert.match(html, /no handler for job type report\.render/);
    const retry = await postForm(server, "/admin/jobs", { Cookie: cookie }, {
      csrf: csrfOf(html),
      type: "report.render",
      id: "r1",
    });
    await retry.body?.cancel();
    assert.equal(retry.status, 303);
    // What /admin/v1 sees: no dead job, one pending with its attempts reset.
    assert.deepEqual((await admin(server, "GET", "/admin/v1/jobs?state=dead")).body.data, []);
    const [pending] = (await admin(server, "GET", "/admin/v1/jobs?state=pending")).body.data;
    assert.equal(pending.id, "r1");
    assert.equal(pending.attempts, 0);
    const after = await (await get(server, "/admin/jobs?m=retried", cookie)).text();
    assert.match(after, /<span class="badge badge-active">due<\/span>/);
    // Retrying again finds no dead job.
    const again = await postForm(server, "/admin/jobs", { Cookie: cookie }, {
      csrf: csrfOf(html),
      type: "report.render",
      id: "r1",
    });
    assert.equal(again.status, 404);
    await again.body?.cancel();
  } finally {
    await server.close();
    await Deno.remove(path.replace(/\/kv\.sqlite$/, ""), { recursive: true }).catch(() => {});
  }
});

Deno.test("operator console: sign-in attempts from one address are limited", async () => {
  const server = await startTestServer({ ADMIN_TOKEN });
  try {
    for (let i = 0; i < 10; i++) {
      const res = await postForm(server, "/admin/login", {}, { token: `wrong-token-${i}-padding` });
      await res.body?.cancel();
      assert.equal(res.status, 401);
    }
    // Past the limit even the right token waits: the limiter does not say what it would have been.
    const limited = await postForm(server, "/admin/login", {}, { token: ADMIN_TOKEN });
    await limited.body?.cancel();
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("Retry-After")) > 0);
    assert.equal(limited.headers.get("Set-Cookie"), null);
  } finally {
    await server.close();
  }
});

Deno.test("operator console: generations across organizations, filtered by status, model and provider", async () => {
  const server = await startTestServer({ ADMIN_TOKEN });
  try {
    const ids: string[] = [];
    for (const name of ["First", "Second"]) {
      const { key } = await fundedOrg(server.services, 500, name);
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key,
        body: { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" },
      });
      assert.equal(created.status, 200);
      ids.push(created.body.id);
    }
    const cookie = await signIn(server);
    const shown = async (query: string) => {
      const html = await (await get(server, `/admin/generations${query}`, cookie)).text();
      return ids.filter((id) => html.includes(id)).length;
    };
    assert.equal(await shown(""), 2);
    assert.equal(await shown("?status=pending"), 2);
    assert.equal(await shown("?status=completed"), 0);
    assert.equal(await shown("?model=local%2Fpreview&provider=local"), 2);
    assert.equal(await shown("?provider=fal"), 0);
    assert.equal(await shown("?model=google%2Fveo-3.1"), 0);
  } finally {
    await server.close();
  }
});
