/** Every id from a URL is checked before KV: an over-long one is a 404, never a 500 with a stack. */
import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";

const TOKEN = "admin-token-0123456789";
const long = "a".repeat(3000);

Deno.test("over-long key and org ids in dashboard and admin URLs answer 404 with no stack trace logged", async () => {
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN });
  try {
    const user = await signIn(server);
    const form = { ...user.headers, "Content-Type": "application/x-www-form-urlencoded" };
    const admin = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };
    const cases: [string, string, Record<string, string>, string?][] = [
      ["GET", `/keys/${long}/revoke`, user.headers],
      ["POST", `/keys/${long}/revoke`, form, ""],
      ["POST", `/keys/key_${long}/revoke`, form, ""],
      ["GET", `/admin/v1/orgs/${long}/ledger`, admin],
      ["POST", `/admin/v1/orgs/${long}/credits`, admin, '{"amount_cents":5,"reason":"x"}'],
      ["POST", `/admin/v1/orgs/org_${long}/credits`, admin, '{"amount_cents":5,"reason":"x"}'],
    ];
    for (const [method, path, headers, body] of cases) {
      const res = await fetch(server.url + path, { method, headers, body });
      await res.body?.cancel();
      assert.equal(res.status, 404, `${method} ${path.slice(0, 40)}`);
    }
    const logged = JSON.stringify(server.logs);
    assert.equal(server.logs.filter((l) => l.level === "error").length, 0, logged.slice(0, 500));
    assert.doesNotMatch(logged, /\bat .*\.ts:\d+/); // no stack frames
  } finally {
    await server.close();
  }
});
