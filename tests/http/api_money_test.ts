import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance, verifyLedger } from "../../lib/db/ledger.ts";
import { listGenerations } from "../../lib/db/generations.ts";
import { allLedger, call, fundedOrg } from "../support/api.ts";

Deno.test("200 concurrent POSTs on credit for exactly 100: 100 accepted, 100 x 402, balance 0", async () => {
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "10000" });
  try {
    const { services } = server;
    // local/preview at 360p costs 1 cent a second: 100 cents pay for exactly 100 one-second clips.
    const { orgId, key } = await fundedOrg(services, 100);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        call(server.url, "POST", "/v1/video/generations", {
          key,
          body: { model: "local/preview", prompt: `clip ${i}`, duration: 1, resolution: "360p" },
        })),
    );
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byStatus), { 200: 100, 402: 100 });
    for (const r of results.filter((r) => r.status === 402)) {
      assert.equal(r.body.error.code, "insufficient_credits");
      assert.equal(r.body.error.type, "billing_error");
    }
    const ids = new Set(results.filter((r) => r.status === 200).map((r) => r.body.id));
    assert.equal(ids.size, 100);

    assert.equal(await getBalance(services.kv, orgId), 0);
    const check = await verifyLedger(services.kv, orgId);
    assert.deepEqual(check, { balance: 0, sum: 0, ok: true });
    const ledger = await allLedger(services, orgId);
    assert.equal(ledger.filter((e) => e.kind === "charge").length, 100);
    const gens = await listGenerations(services.kv, orgId, { limit: 100 });
    assert.equal(gens.data.length, 100);
    assert.equal(gens.next_cursor, null);
    assert.deepEqual(new Set(gens.data.map((g) => g.id)), ids);
  } finally {
    await server.close();
  }
});
