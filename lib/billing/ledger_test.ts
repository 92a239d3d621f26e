import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { createServices } from "../services.ts";
import { createOrg } from "../db/orgs.ts";
import { balanceKey, creditOrg, debitOrg, getBalance, verifyLedger } from "../db/ledger.ts";
import { InsufficientCredits } from "../errors.ts";
import { createGeneration } from "../generations/service.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import { ledgerPage, verifyAllLedgers } from "./ledger.ts";
import { handleStripeWebhook } from "./webhook.ts";
import {
  sessionEvent,
  signed,
  TEST_STRIPE_KEY,
  TEST_WEBHOOK_SECRET,
} from "../../tests/support/stripe.ts";

Deno.test("ledger pages carry the running balance across pages", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const org = await createOrg(kv, { name: "Acme" });
    let t = 1_000;
    await creditOrg(kv, org.id, 1_000, { kind: "topup" }, t++);
    for (let i = 0; i < 4; i++) await debitOrg(kv, org.id, 100, {}, t++);
    await creditOrg(kv, org.id, 50, { kind: "refund" }, t++);
    const p1 = await ledgerPage(kv, org.id, { limit: 4 });
    assert.equal(p1.balance_cents, 650);
    assert.deepEqual(p1.data.map((e) => e.running_balance), [650, 600, 700, 800]);
    assert.ok(p1.next_cursor);
    const p2 = await ledgerPage(kv, org.id, { limit: 4, cursor: p1.next_cursor });
    assert.deepEqual(p2.data.map((e) => e.running_balance), [900, 1_000]);
    assert.equal(p2.next_cursor, null);
    // A garbled cursor starts from the newest entry.
    assert.equal((await ledgerPage(kv, org.id, { cursor: "!!" })).data[0].running_balance, 650);
  } finally {
    kv.close();
  }
});

Deno.test("verifyAllLedgers finds an org whose balance drifted from its ledger", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const a = await createOrg(kv, { name: "A" });
    const b = await createOrg(kv, { name: "B" });
    await creditOrg(kv, a.id, 700, { kind: "topup" });
    await creditOrg(kv, b.id, 300, { kind: "topup" });
    assert.deepEqual(await verifyAllLedgers(kv), { ok: true, orgs_checked: 2, mismatches: [] });
    await kv.set(balanceKey(b.id), new Deno.KvU64(301n)); // corruption outside the ledger
    const r = await verifyAllLedgers(kv);
    assert.equal(r.ok, false);
    assert.deepEqual(r.mismatches, [{ org_id: b.id, balance_cents: 301, ledger_sum_cents: 300 }]);
  } finally {
    kv.close();
  }
});

Deno.test("verifyAllLedgers checks orgs without money and money without an org record", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await createOrg(kv, { name: "Empty" });
    await creditOrg(kv, "org_ghost", 40, { kind: "topup" });
    assert.deepEqual(await verifyAllLedgers(kv), { ok: true, orgs_checked: 2, mismatches: [] });
    await kv.set(balanceKey("org_ghost"), new Deno.KvU64(41n));
    assert.deepEqual((await verifyAllLedgers(kv)).mismatches, [
      { org_id: "org_ghost", balance_cents: 41, ledger_sum_cents: 40 },
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("50 Stripe top-ups racing 50 generation charges on one org keep balance == sum(ledger)", async () => {
  const services = await createServices(
    testConfig({ STRIPE_SECRET_KEY: TEST_STRIPE_KEY, STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }),
    { log: () => {} },
  );
  try {
    const org = await createOrg(services.kv, { name: "Busy" });
    await creditOrg(services.kv, org.id, 10, { kind: "topup" });
    const deliveries = await Promise.all(
      Array.from({ length: 50 }, () => signed(sessionEvent(org.id, { amount: 500 }))),
    );
    const input = parseGenerationBody({
      model: "local/preview",
      prompt: "race",
      duration: 1,
      resolution: "360p",
    });
    let charged = 0;
    let refused = 0;
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      const d = deliveries[i];
      jobs.push(handleStripeWebhook(services, d.body, d.signature));
      jobs.push(
        createGeneration(services.generation, org.id, input).then(
          () => charged++,
          (e) => {
            if (!(e instanceof InsufficientCredits)) throw e;
            refused++;
          },
        ),
      );
    }
    await Promise.all(jobs);
    assert.equal(charged + refused, 50);
    assert.ok(charged > 0);
    const v = await verifyLedger(services.kv, org.id);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(await getBalance(services.kv, org.id), 10 + 50 * 500 - charged * 1);
    assert.ok((await verifyAllLedgers(services.kv)).ok);
  } finally {
    services.kv.close();
  }
});
