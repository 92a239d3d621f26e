import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { creditOrg, getBalance } from "../../lib/db/ledger.ts";
import { listGenerations } from "../../lib/generations/service.ts";

// 30 s into the current minute window (sessions are made with the real clock).
const T0 = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;

function submit(server: TestServer, headers: Record<string, string>) {
  return fetch(server.url + "/playground/generations", {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ model: "local/preview", prompt: "a kite", duration: 2 }),
  });
}

Deno.test("playground submissions share the API's per-minute limit, per organization: 429 in API.md's shape, nothing charged", async () => {
  let now = T0;
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "2" }, { now: () => now });
  try {
    const owner = await signIn(server);
    // A second member of the same org draws on the same budget.
    const member = await signIn(server, { orgId: owner.orgId, role: "member" });
    const other = await signIn(server);
    for (const orgId of [owner.orgId, other.orgId]) {
      await creditOrg(server.services.kv, orgId, 1000, { kind: "topup", reason: "test" });
    }

    const first = await submit(server, owner.headers);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("X-RateLimit-Limit"), "2");
    assert.equal(first.headers.get("X-RateLimit-Remaining"), "1");
    await first.body?.cancel();
    const second = await submit(server, member.headers);
    assert.equal(second.status, 200);
    await second.body?.cancel();
    const balance = await getBalance(server.services.kv, owner.orgId);

    const limited = await submit(server, owner.headers);
    assert.equal(limited.status, 429);
    assert.match(limited.headers.get("Content-Type") ?? "", /application\/json/);
    const body = await limited.json();
    assert.equal(body.error.type, "rate_limit_error");
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.match(body.message, /rate limit/i);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(body.data.retry_after, retryAfter);
    assert.equal(limited.headers.get("X-RateLimit-Remaining"), "0");
    // Refused before anything was created or charged.
    assert.equal(await getBalance(server.services.kv, owner.orgId), balance);
    const listed = await listGenerations(server.services.kv, owner.orgId, { limit: 10 });
    assert.equal(listed.data.length, 2);

    // Another organization has its own budget.
    const elsewhere = await submit(server, other.headers);
    assert.equal(elsewhere.status, 200);
    await elsewhere.body?.cancel();

    // Two windows later the org is fully back.
    now = T0 + 120_000;
    const again = await submit(server, member.headers);
    assert.equal(again.status, 200);
    await again.body?.cancel();
  } finally {
    await server.close();
  }
});
