import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance, verifyLedger } from "../../lib/db/ledger.ts";
import { call } from "../support/api.ts";
import { keyInfoSchema, usageSchema } from "../../lib/openapi.ts";

const ADMIN = "admin-token-for-spend-tests-0123456789";
// local/preview at 360p costs 1 cent a second.
const clip = (i: number) => ({
  model: "local/preview",
  prompt: `clip ${i}`,
  duration: 2,
  resolution: "360p",
});

Deno.test("key limits over HTTP: admin sets them, 402 key_limit_exceeded, GET /v1/key, by_key", async () => {
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "10000", ADMIN_TOKEN: ADMIN });
  try {
    const admin = { key: ADMIN };
    const org = await call(server.url, "POST", "/admin/v1/orgs", { ...admin, body: { name: "A" } });
    const orgId = org.body.id;
    await call(server.url, "POST", `/admin/v1/orgs/${orgId}/credits`, {
      ...admin,
      body: { amount_cents: 1000, reason: "test", kind: "topup" },
    });
    const created = await call(server.url, "POST", `/admin/v1/orgs/${orgId}/keys`, {
      ...admin,
      body: { name: "ci", limit_cents: 10, limit_reset: "daily" },
    });
    assert.equal(created.status, 200);
    const key = created.body.key;
    const bad = await call(server.url, "POST", `/admin/v1/orgs/${orgId}/keys`, {
      ...admin,
      body: { name: "x", limit_cents: -1 },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, "limit_cents");

    // 20 racing 2-cent clips on a 10-cent limit: exactly 5.
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => call(server.url, "POST", "/v1/video/generations", { key, body: clip(i) }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 5);
    for (const r of results.filter((r) => r.status !== 200)) {
      assert.equal(r.status, 402);
      assert.equal(r.body.error.code, "key_limit_exceeded");
      assert.equal(r.body.data.limit_cents, 10);
      assert.equal(r.body.data.spent_cents, 10);
      assert.match(r.body.message, /resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    }
    assert.equal(await getBalance(server.services.kv, orgId), 990);
    assert.ok((await verifyLedger(server.services.kv, orgId)).ok);

    const me = await call(server.url, "GET", "/v1/key", { key });
    assert.equal(me.status, 200);
    const nextDay = Math.ceil((server.services.now() + 1) / 86_400_000) * 86_400;
    assert.deepEqual(
      {
        name: me.body.data.name,
        limit_cents: me.body.data.limit_cents,
        limit_reset: me.body.data.limit_reset,
        spent_cents: me.body.data.spent_cents,
        limit_remaining_cents: me.body.data.limit_remaining_cents,
        resets_at: me.body.data.resets_at,
      },
      {
        name: "ci",
        limit_cents: 10,
        limit_reset: "daily",
        spent_cents: 10,
        limit_remaining_cents: 0,
        resets_at: nextDay,
      },
    );
    assert.match(me.body.data.label, /^pv_/);
    assert.deepEqual(keyInfoSchema.strict().parse(me.body), me.body, "documented in openapi.json");
    assert.deepEqual(me.body.data.usage.all_time, { spent_cents: 10, requests: 5 });

    // Raise it over PATCH: the next request goes through.
    const patched = await call(
      server.url,
      "PATCH",
      `/admin/v1/orgs/${orgId}/keys/${created.body.id}`,
      { ...admin, body: { limit_cents: 12 } },
    );
    assert.deepEqual(patched.body, { id: created.body.id, limit_cents: 12, limit_reset: "daily" });
    const more = await call(server.url, "POST", "/v1/video/generations", { key, body: clip(99) });
    assert.equal(more.status, 200);
    const unknownField = await call(
      server.url,
      "PATCH",
      `/admin/v1/orgs/${orgId}/keys/${created.body.id}`,
      { ...admin, body: { limit: 5 } },
    );
    assert.equal(unknownField.status, 400);

    const usage = await call(server.url, "GET", "/v1/usage", { key });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.credit_balance, 988);
    assert.deepEqual(usage.body.by_key.map((k: { key_id: string }) => k.key_id), [created.body.id]);
    assert.deepEqual(usage.body.by_key[0].today, { spent_cents: 12, requests: 6 });
    assert.deepEqual(usageSchema.strict().parse(usage.body), usage.body);
  } finally {
    await server.close();
  }
});

Deno.test("/docs and /openapi.json document the spend codes, fields, endpoint and event", async () => {
  const server = await startTestServer();
  try {
    const docs = await (await fetch(`${server.url}/docs`)).text();
    const spec = await (await fetch(`${server.url}/openapi.json`)).json();
    for (
      const word of ["key_limit_exceeded", "budget_exceeded", "/v1/key", "by_key", "balance.low"]
    ) {
      assert.ok(docs.includes(word), `/docs mentions ${word}`);
    }
    assert.ok(spec.paths["/v1/key"].get);
    assert.match(
      spec.paths["/v1/video/generations"].post.responses["402"].description,
      /key_limit_exceeded.*budget_exceeded/s,
    );
    assert.ok(spec.components.schemas.Usage.properties.by_key);
    assert.deepEqual(
      Object.keys(spec.components.schemas.KeyInfo.properties.data.properties).sort(),
      [
        "expires_at",
        "id",
        "label",
        "limit_cents",
        "limit_remaining_cents",
        "limit_reset",
        "name",
        "resets_at",
        "spent_cents",
        "usage",
      ],
    );
    assert.ok(spec.webhooks["balance.low"].post);
  } finally {
    await server.close();
  }
});
