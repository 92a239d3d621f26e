import assert from "node:assert/strict";
import { InsufficientCredits } from "../errors.ts";
import { createOrg } from "./orgs.ts";
import { creditOrg, debitOrg, getBalance, listLedger, verifyLedger } from "./ledger.ts";

Deno.test("credits with a reference apply at most once, even concurrently", async () => {
  const kv = await Deno.openKv(":memory:");
  const org = await createOrg(kv, { name: "Acme" });
  const results = await Promise.all(
    Array.from(
      { length: 5 },
      () => creditOrg(kv, org.id, 2500, { kind: "topup", reference: "cs_test_123" }),
    ),
  );
  assert.equal(results.filter((r) => r.credited).length, 1);
  assert.equal(await getBalance(kv, org.id), 2500);
  assert.deepEqual((await creditOrg(kv, org.id, 100, { kind: "adjustment" })).credited, true);
  assert.deepEqual(await verifyLedger(kv, org.id), { balance: 2600, sum: 2600, ok: true });
  kv.close();
});

Deno.test("debits refuse to go below zero and record balance_after", async () => {
  const kv = await Deno.openKv(":memory:");
  const org = await createOrg(kv, { name: "Acme" });
  await creditOrg(kv, org.id, 100, { kind: "topup" });
  const e = await debitOrg(kv, org.id, 40, { reason: "goodwill reversal" });
  assert.equal(e.balance_after, 60);
  assert.equal(e.amount_cents, -40);
  await assert.rejects(debitOrg(kv, org.id, 61), InsufficientCredits);
  assert.equal(await getBalance(kv, org.id), 60);
  await assert.rejects(creditOrg(kv, org.id, 1.5, { kind: "topup" }), RangeError);
  await assert.rejects(creditOrg(kv, org.id, -5, { kind: "topup" }), RangeError);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});

Deno.test("the ledger lists newest first with a cursor", async () => {
  const kv = await Deno.openKv(":memory:");
  const org = await createOrg(kv, { name: "Acme" });
  for (let i = 1; i <= 5; i++) await creditOrg(kv, org.id, i, { kind: "topup" }, 1000 * i);
  const page1 = await listLedger(kv, org.id, { limit: 3 });
  assert.deepEqual(page1.data.map((e) => e.amount_cents), [5, 4, 3]);
  assert.ok(page1.next_cursor);
  const page2 = await listLedger(kv, org.id, { limit: 3, cursor: page1.next_cursor! });
  assert.deepEqual(page2.data.map((e) => e.amount_cents), [2, 1]);
  assert.equal(page2.next_cursor, null);
  kv.close();
});
