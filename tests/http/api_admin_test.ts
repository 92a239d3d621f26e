import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { verifyLedger } from "../../lib/db/ledger.ts";
import { allLedger, call } from "../support/api.ts";

const TOKEN = "admin-token-0123456789";

Deno.test("admin API is 404 everywhere when ADMIN_TOKEN is unset", async () => {
  const server = await startTestServer();
  try {
    for (
      const [method, path] of [
        ["POST", "/admin/v1/orgs"],
        ["POST", "/admin/v1/orgs/org_x/keys"],
        ["POST", "/admin/v1/orgs/org_x/credits"],
        ["GET", "/admin/v1/anything"],
      ]
    ) {
      const r = await call(server.url, method, path, {
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: method === "POST" ? { name: "x" } : undefined,
      });
      assert.equal(r.status, 404, path);
      assert.equal(r.body.error.code, "not_found", path);
    }
  } finally {
    await server.close();
  }
});

Deno.test("admin API: wrong or missing token is 401; orgs, keys and credits work", async () => {
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN });
  try {
    const admin = (path: string, body: unknown, token = TOKEN) =>
      call(server.url, "POST", path, { body, headers: { Authorization: `Bearer ${token}` } });

    for (const token of ["wrong-token-0123456789", TOKEN + "x", TOKEN.slice(0, -1)]) {
      const r = await admin("/admin/v1/orgs", { name: "Acme" }, token);
      assert.equal(r.status, 401);
      assert.equal(r.body.error.type, "authentication_error");
    }
    assert.equal(
      (await call(server.url, "POST", "/admin/v1/orgs", { body: { name: "A" } })).status,
      401,
    );

    const org = await admin("/admin/v1/orgs", { name: "  Acme  " });
    assert.equal(org.status, 200);
    assert.deepEqual(Object.keys(org.body).sort(), ["id", "name"]);
    assert.match(org.body.id, /^org_/);
    assert.equal(org.body.name, "Acme");
    const orgId = org.body.id;

    const key = await admin(`/admin/v1/orgs/${orgId}/keys`, { name: "ci" });
    assert.equal(key.status, 200);
    assert.deepEqual(Object.keys(key.body).sort(), ["id", "key"]);
    assert.match(key.body.id, /^key_/);
    assert.match(key.body.key, /^pv_/);

    // The key works on /v1 and sees the credits the admin API adds and takes.
    const balance = async () =>
      (await call(server.url, "GET", "/v1/usage", { key: key.body.key })).body.credit_balance;
    assert.equal(await balance(), 0);
    const topup = await admin(`/admin/v1/orgs/${orgId}/credits`, {
      amount_cents: 500,
      reason: "wire transfer",
      kind: "topup",
    });
    assert.deepEqual(topup.body, { balance_cents: 500 });
    const debit = await admin(`/admin/v1/orgs/${orgId}/credits`, {
      amount_cents: -200,
      reason: "correction",
    });
    assert.deepEqual(debit.body, { balance_cents: 300 });
    const tooMuch = await admin(`/admin/v1/orgs/${orgId}/credits`, {
      amount_cents: -301,
      reason: "too much",
    });
    assert.equal(tooMuch.status, 402);
    assert.equal(tooMuch.body.error.code, "insufficient_credits");
    assert.equal(await balance(), 300);
    const ledger = await allLedger(server.services, orgId);
    assert.deepEqual(ledger.map((e) => [e.kind, e.amount_cents, e.reason]), [
      ["adjustment", -200, "correction"],
      ["topup", 500, "wire transfer"],
    ]);
    assert.equal((await verifyLedger(server.services.kv, orgId)).ok, true);

    // An expiring key: expires_at in Unix seconds, and must be in the future.
    const future = Math.floor(Date.now() / 1000) + 3600;
    const expiring = await admin(`/admin/v1/orgs/${orgId}/keys`, {
      name: "tmp",
      expires_at: future,
    });
    assert.equal(expiring.status, 200);
    const past = await admin(`/admin/v1/orgs/${orgId}/keys`, { name: "old", expires_at: 1000 });
    assert.equal(past.status, 400);
    assert.equal(past.body.error.param, "expires_at");

    // Bad input and unknown orgs change nothing.
    for (
      const [path, body, status, param] of [
        ["/admin/v1/orgs", {}, 400, "name"],
        ["/admin/v1/orgs", { name: "   " }, 400, "name"],
        ["/admin/v1/orgs", { name: 5 }, 400, "name"],
        [`/admin/v1/orgs/${orgId}/keys`, { name: "" }, 400, "name"],
        [`/admin/v1/orgs/${orgId}/keys`, { name: "k", expires_at: "soon" }, 400, "expires_at"],
        [`/admin/v1/orgs/${orgId}/credits`, { amount_cents: 0, reason: "r" }, 400, "amount_cents"],
        [
          `/admin/v1/orgs/${orgId}/credits`,
          { amount_cents: 1.5, reason: "r" },
          400,
          "amount_cents",
        ],
        [
          `/admin/v1/orgs/${orgId}/credits`,
          { amount_cents: "5", reason: "r" },
          400,
          "amount_cents",
        ],
        [`/admin/v1/orgs/${orgId}/credits`, { amount_cents: 5 }, 400, "reason"],
        [
          `/admin/v1/orgs/${orgId}/credits`,
          { amount_cents: 5, reason: "r", kind: "refund" },
          400,
          "kind",
        ],
        ["/admin/v1/orgs/org_nope/credits", { amount_cents: 5, reason: "r" }, 404, "org"],
        ["/admin/v1/orgs/org_nope/keys", { name: "k" }, 404, "org"],
      ] as const
    ) {
      const r = await admin(path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}`);
      assert.equal(r.body.error.param, param, `${path} ${JSON.stringify(body)}`);
    }
    const malformed = await call(server.url, "POST", "/admin/v1/orgs", {
      rawBody: "{",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, "invalid_json");
    assert.equal(await balance(), 300);
    assert.equal((await allLedger(server.services, orgId)).length, 2);
  } finally {
    await server.close();
  }
});
