/**
 * Ids and cursors from URLs are checked before they reach KV: an over-long or malformed id is a
 * 404 like any unknown id, and a cursor that is not one of ours is a 400 naming `cursor` — never a
 * 500 from KV (key too large, invalid cursor).
 */
import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { call, fundedOrg } from "../support/api.ts";

const TOKEN = "admin-token-0123456789";
const long = "a".repeat(3000);

Deno.test("over-long and malformed ids answer 404, bad cursors 400, nothing 500", async () => {
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN });
  try {
    const { key, orgId } = await fundedOrg(server.services, 100);
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" },
    });
    assert.equal(created.status, 200);
    const balance = await getBalance(server.services.kv, orgId);

    for (
      const [method, path] of [
        ["GET", `/v1/video/generations/${long}`],
        ["GET", `/v1/video/generations/gen_${long}`],
        ["GET", "/v1/video/generations/%E0%A4%A"],
        ["POST", `/v1/video/generations/${long}/cancel`],
        ["POST", `/v1/video/generations/gen_${long}/cancel`],
      ]
    ) {
      const r = await call(server.url, method, path, { key });
      assert.equal(r.status, 404, `${method} ${path.slice(0, 60)}`);
      assert.equal(r.body.error.code, "not_found");
      assert.equal(r.body.error.param, "id");
    }
    // The real generation is still there and untouched.
    const again = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, {
      key,
    });
    assert.equal(again.status, 200);
    assert.equal(await getBalance(server.services.kv, orgId), balance);

    for (
      const cursor of ["%FF%FE", "%C3%A9", "!!!", "not%20a%20cursor", "AAAAAAAAAAAAAAAAAAAAAAAAA"]
    ) {
      const r = await call(server.url, "GET", `/v1/video/generations?cursor=${cursor}`, { key });
      assert.equal(r.status, 400, cursor);
      assert.equal(r.body.error.param, "cursor", cursor);
      assert.match(r.body.message, /cursor/);
    }
    const first = await call(server.url, "GET", "/v1/video/generations?limit=1", { key });
    assert.equal(first.status, 200);
    assert.equal(first.body.data.length, 1);

    const admin = await call(server.url, "POST", `/admin/v1/orgs/${long}/keys`, {
      body: { name: "k" },
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(admin.status, 404);
    assert.equal(admin.body.error.param, "org");

    const user = await signIn(server);
    for (const path of [`/webhooks/${long}`, `/webhooks/whe_${long}`]) {
      const page = await fetch(server.url + path, { headers: user.headers });
      await page.body?.cancel();
      assert.equal(page.status, 404, path.slice(0, 40));
      const post = await fetch(server.url + path, {
        method: "POST",
        headers: { ...user.headers, "Content-Type": "application/x-www-form-urlencoded" },
        body: "action=test",
      });
      await post.body?.cancel();
      assert.equal(post.status, 404, path.slice(0, 40));
    }
    const errors = server.logs.filter((l) => l.level === "error");
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
  }
});
