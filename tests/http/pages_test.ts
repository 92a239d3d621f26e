import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { creditOrg, getBalance } from "../../lib/db/ledger.ts";

async function post(
  server: TestServer,
  path: string,
  headers: Record<string, string>,
  body: unknown,
) {
  const res = await fetch(server.url + path, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, "Content-Type": "application/json", Accept: "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

Deno.test("/usage and /playground send a signed-out visitor to /login and back", async () => {
  const server = await startTestServer();
  try {
    for (const path of ["/usage", "/playground?model=local%2Fpreview"]) {
      const res = await fetch(server.url + path, { redirect: "manual" });
      await res.body?.cancel();
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("Location"), `/login?next=${encodeURIComponent(path)}`);
    }
    // The island's JSON calls get API.md's 401, not a redirect to an HTML page.
    const api = await post(server, "/playground/generations", {}, { prompt: "x" });
    assert.equal(api.status, 401);
    assert.equal(api.body.error.code, "session_expired");
    assert.match(api.body.message, /sign in/i);
    const poll = await fetch(
      server.url + "/playground/generations/gen_01JZZZZZZZZZZZZZZZZZZZZZZZ",
      {
        redirect: "manual",
        headers: { Accept: "application/json" },
      },
    );
    assert.equal(poll.status, 401);
    assert.match(poll.headers.get("Content-Type") ?? "", /application\/json/);
    assert.equal((await poll.json()).error.type, "authentication_error");
    // A JSON body without Accept (a script's fetch) is still answered in JSON.
    const bare = await fetch(server.url + "/playground/generations", {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(bare.status, 401);
    assert.equal((await bare.json()).error.code, "session_expired");
  } finally {
    await server.close();
  }
});

Deno.test("playground endpoint: bad input is a 400 naming the field and charges nothing", async () => {
  const server = await startTestServer();
  try {
    const { headers, orgId } = await signIn(server, { role: "member" });
    await creditOrg(server.services.kv, orgId, 100, { kind: "topup", reason: "test" });
    const cases: [unknown, string | null][] = [
      [{ model: "local/preview", prompt: "   " }, "prompt"],
      [{ model: "local/preview", prompt: "ok", duration: 7 }, "duration"],
      [{ model: "local/preview", prompt: "ok", resolution: "4k" }, "resolution"],
      [{ model: "local/preview", prompt: "ok", seed: -1 }, "seed"],
      [{ model: "nobody/nothing", prompt: "ok" }, "model"],
      [{ prompt: "ok" }, "model"],
      ["{not json", null],
    ];
    for (const [body, param] of cases) {
      const res = await post(server, "/playground/generations", headers, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.param, param, JSON.stringify(body));
      assert.equal(typeof res.body.message, "string");
    }
    assert.equal(await getBalance(server.services.kv, orgId), 100);
  } finally {
    await server.close();
  }
});

Deno.test("playground endpoint: a member's generation charges the org like the API; 402 without credits", async () => {
  const server = await startTestServer();
  try {
    const { headers, orgId } = await signIn(server, { role: "member" });
    const body = {
      model: "local/preview",
      prompt: "a lighthouse",
      duration: 2,
      resolution: "720p",
    };
    const broke = await post(server, "/playground/generations", headers, body);
    assert.equal(broke.status, 402);
    assert.equal(broke.body.error.code, "insufficient_credits");

    await creditOrg(server.services.kv, orgId, 100, { kind: "topup", reason: "test" });
    const created = await post(server, "/playground/generations", headers, body);
    assert.equal(created.status, 200);
    assert.equal(created.body.status, "pending");
    assert.match(created.body.id, /^gen_/);
    // 720p on local/preview is 2 cents per second.
    assert.equal(await getBalance(server.services.kv, orgId), 96);

    const got = await fetch(`${server.url}/playground/generations/${created.body.id}`, { headers });
    const g = await got.json();
    assert.equal(got.status, 200);
    assert.equal(g.id, created.body.id);
    assert.equal(g.model, "local/preview");
    assert.equal(g.video_path, null);

    // Another organization's member cannot see it.
    const other = await signIn(server);
    const hidden = await fetch(`${server.url}/playground/generations/${created.body.id}`, {
      headers: { ...other.headers, Accept: "application/json" },
    });
    assert.equal(hidden.status, 404);
    await hidden.body?.cancel();

    // A cross-site form cannot submit on the user's behalf.
    const forged = await post(server, "/playground/generations", {
      ...headers,
      "Sec-Fetch-Site": "cross-site",
    }, body);
    assert.equal(forged.status, 403);
    assert.equal(await getBalance(server.services.kv, orgId), 96);
  } finally {
    await server.close();
  }
});

Deno.test("/usage shows the balance, totals and recent generations; /playground offers the catalog", async () => {
  const server = await startTestServer();
  try {
    const { headers, orgId } = await signIn(server, { role: "member" });
    const empty = await (await fetch(server.url + "/usage", { headers })).text();
    assert.match(empty, /No generations yet/);

    await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
    const created = await post(server, "/playground/generations", headers, {
      model: "local/preview",
      prompt: "usage row",
      duration: 3,
    });
    assert.equal(created.status, 200);
    const res = await fetch(server.url + "/usage", { headers });
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /data-testid="usage-balance">\$4\.97 </);
    assert.match(html, /data-testid="usage-requests">1</);
    assert.match(html, new RegExp(`data-id="${created.body.id}"`));
    assert.match(html, /class="usage-chart"/);
    assert.match(html, /<pv-island/);

    const pg = await (await fetch(server.url + "/playground?model=local%2Fpreview", { headers }))
      .text();
    assert.match(pg, /<pv-island/);
    assert.match(pg, /local\/preview/);
    assert.match(pg, /data-testid="price">\$0\.04</); // 4 s at 480p, 1 cent per second
  } finally {
    await server.close();
  }
});
