import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { createApiKey, revokeApiKey } from "../../lib/db/apikeys.ts";
import { call, fundedOrg } from "../support/api.ts";

const T0 = Date.UTC(2026, 10, 27, 12, 0, 30);

function assertError(r: { status: number; body: unknown }, status: number, code: string) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const body = r.body as { message: string; error: { code: string; type: string } };
  assert.equal(typeof body.message, "string");
  assert.equal(body.error.code, code);
}

Deno.test("API keys: missing, malformed, unknown, revoked and expired keys are 401", async () => {
  let now = T0;
  const server = await startTestServer({}, { now: () => now });
  try {
    const { services } = server;
    const { orgId, keyId, key } = await fundedOrg(services, 100);
    const get = (headers: Record<string, string>) =>
      call(server.url, "GET", "/v1/usage", { headers });

    assert.equal((await call(server.url, "GET", "/v1/usage", { key })).status, 200);
    assertError(await get({}), 401, "invalid_api_key");
    assertError(await get({ Authorization: key }), 401, "invalid_api_key");
    assertError(await get({ Authorization: "Basic dXNlcjpwYXNz" }), 401, "invalid_api_key");
    assertError(
      await get({ Authorization: "Bearer pv_" + "0".repeat(64) }),
      401,
      "invalid_api_key",
    );
    assertError(await get({ Authorization: "Bearer sk_live_123" }), 401, "invalid_api_key");
    // Every /v1 path is behind the key, including unknown ones (no route discovery).
    assertError(await call(server.url, "GET", "/v1/nothing-here"), 401, "invalid_api_key");
    assertError(await call(server.url, "GET", "/v1/models"), 401, "invalid_api_key");

    const expiring = await createApiKey(services.kv, orgId, {
      name: "short",
      expiresAt: T0 + 60_000,
    }, { nowMs: T0 });
    assert.equal((await call(server.url, "GET", "/v1/usage", { key: expiring.key })).status, 200);
    now = T0 + 60_000;
    const expired = await call(server.url, "GET", "/v1/usage", { key: expiring.key });
    assertError(expired, 401, "expired_api_key");
    assert.equal(expired.body.message, "API key has expired");

    await revokeApiKey(services.kv, orgId, keyId, now);
    assertError(await call(server.url, "GET", "/v1/usage", { key }), 401, "invalid_api_key");
  } finally {
    await server.close();
  }
});

Deno.test("another org's generation is 404 for GET and cancel, and absent from its list", async () => {
  const server = await startTestServer();
  try {
    const a = await fundedOrg(server.services, 100, "A");
    const b = await fundedOrg(server.services, 100, "B");
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: a.key,
      body: { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" },
    });
    assert.equal(created.status, 200);
    const id = created.body.id;

    assertError(
      await call(server.url, "GET", `/v1/video/generations/${id}`, { key: b.key }),
      404,
      "not_found",
    );
    assertError(
      await call(server.url, "POST", `/v1/video/generations/${id}/cancel`, { key: b.key }),
      404,
      "not_found",
    );
    const listB = await call(server.url, "GET", "/v1/video/generations", { key: b.key });
    assert.deepEqual(listB.body, { data: [], next_cursor: null });
    const usageB = await call(server.url, "GET", "/v1/usage", { key: b.key });
    assert.equal(usageB.body.credit_balance, 100);
    assert.deepEqual(usageB.body.recent_requests, []);

    // The owner still sees it untouched, cancels it (refunded), and a second cancel is 409.
    const mine = await call(server.url, "GET", `/v1/video/generations/${id}`, { key: a.key });
    assert.equal(mine.body.status, "pending");
    const listA = await call(server.url, "GET", "/v1/video/generations", { key: a.key });
    assert.deepEqual(listA.body.data.map((g: { id: string }) => g.id), [id]);
    const cancelled = await call(server.url, "POST", `/v1/video/generations/${id}/cancel`, {
      key: a.key,
    });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, "cancelled");
    assertError(
      await call(server.url, "POST", `/v1/video/generations/${id}/cancel`, { key: a.key }),
      409,
      "generation_finished",
    );
    const usageA = await call(server.url, "GET", "/v1/usage", { key: a.key });
    assert.equal(usageA.body.credit_balance, 100);
  } finally {
    await server.close();
  }
});

Deno.test("rate limit: X-RateLimit-* on every response, 429 with Retry-After and data.retry_after", async () => {
  let now = T0;
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "3" }, { now: () => now });
  try {
    const a = await fundedOrg(server.services, 0, "A");
    const b = await fundedOrg(server.services, 0, "B");
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      // An error answer (404 here) is counted and carries the headers too.
      const path = i === 1 ? "/v1/video/generations/gen_nope" : "/v1/usage";
      const r = await call(server.url, "GET", path, { key: a.key });
      assert.equal(r.status, i === 1 ? 404 : 200);
      assert.equal(r.headers.get("X-RateLimit-Limit"), "3");
      assert.equal(
        r.headers.get("X-RateLimit-Reset"),
        String(Math.ceil((T0 - 30_000 + 60_000) / 1000)),
      );
      remaining.push(r.headers.get("X-RateLimit-Remaining")!);
    }
    assert.deepEqual(remaining, ["2", "1", "0"]);

    const limited = await call(server.url, "GET", "/v1/usage", { key: a.key });
    assertError(limited, 429, "rate_limit_exceeded");
    assert.equal(limited.body.error.type, "rate_limit_error");
    const retryAfter = Number(limited.headers.get("Retry-After"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.body.data.retry_after, retryAfter);
    assert.equal(limited.headers.get("X-RateLimit-Remaining"), "0");
    assert.equal(limited.headers.get("X-RateLimit-Limit"), "3");

    // Another key has its own budget; unauthenticated calls do not use anyone's.
    assert.equal((await call(server.url, "GET", "/v1/usage", { key: b.key })).status, 200);
    assert.equal((await call(server.url, "GET", "/v1/usage")).status, 401);

    // Two windows later the key is fully back.
    now = T0 + 120_000;
    const again = await call(server.url, "GET", "/v1/usage", { key: a.key });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("X-RateLimit-Remaining"), "2");
  } finally {
    await server.close();
  }
});
