import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { createOrg } from "../../lib/db/orgs.ts";
import { balanceKey, creditOrg, debitOrg } from "../../lib/db/ledger.ts";

const TOKEN = "admin-token-billing-0123456789";

Deno.test("admin ledger endpoints: verify every org, page one org's ledger; token required", async () => {
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN });
  const get = async (path: string, token = TOKEN) => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    const { kv } = server.services;
    const org = await createOrg(kv, { name: "Acme" });
    // API.md: timestamps on the wire are Unix seconds (stored as ms).
    await creditOrg(kv, org.id, 1_000, { kind: "topup", reference: "cs_a" }, 1_709_827_200_999);
    await debitOrg(kv, org.id, 300, { reason: "fix" });
    await debitOrg(kv, org.id, 200, { reason: "fix" });

    assert.equal((await get("/admin/v1/ledger/verify", "wrong-token-0123456789")).status, 401);
    assert.equal((await get(`/admin/v1/orgs/${org.id}/ledger`, "nope-nope-nope-nope")).status, 401);
    assert.deepEqual((await get("/admin/v1/ledger/verify")).body, {
      ok: true,
      orgs_checked: 1,
      mismatches: [],
    });

    const p1 = await get(`/admin/v1/orgs/${org.id}/ledger?limit=2`);
    assert.equal(p1.status, 200);
    assert.equal(p1.body.balance_cents, 500);
    assert.equal(p1.body.debt_cents, 0);
    assert.deepEqual(
      p1.body.data.map((e: { amount_cents: number; running_balance: number }) => [
        e.amount_cents,
        e.running_balance,
      ]),
      [[-200, 500], [-300, 700]],
    );
    const p2 = await get(
      `/admin/v1/orgs/${org.id}/ledger?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`,
    );
    assert.deepEqual(p2.body.data.map((e: { kind: string }) => e.kind), ["topup"]);
    assert.equal(p2.body.data[0].running_balance, 1_000);
    assert.equal(p2.body.data[0].created_at, 1_709_827_200);
    const nowS = Date.now() / 1000;
    for (const e of p1.body.data as { created_at: number }[]) {
      assert.ok(
        Number.isInteger(e.created_at) && Math.abs(e.created_at - nowS) < 600,
        `${e.created_at}`,
      );
    }
    assert.equal(p2.body.next_cursor, null);

    assert.equal((await get("/admin/v1/orgs/org_nope/ledger")).status, 404);
    const bad = await get(`/admin/v1/orgs/${org.id}/ledger?limit=0`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, "limit");

    await kv.set(balanceKey(org.id), new Deno.KvU64(501n));
    const v = await get("/admin/v1/ledger/verify");
    assert.equal(v.body.ok, false);
    assert.deepEqual(v.body.mismatches, [
      { org_id: org.id, balance_cents: 501, ledger_sum_cents: 500 },
    ]);
  } finally {
    await server.close();
  }
});
