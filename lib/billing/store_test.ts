import assert from "node:assert/strict";
import { createOrg } from "../db/orgs.ts";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { getDebt } from "../db/billing.ts";
import { applyChargeRefund, applyDisputeWithdrawal, creditPaidSession } from "./store.ts";

async function withOrg(fn: (kv: Deno.Kv, orgId: string) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    const org = await createOrg(kv, { name: "Acme" });
    await fn(kv, org.id);
  } finally {
    kv.close();
  }
}

const paid = (orgId: string, sessionId: string, amountCents: number) => ({
  orgId,
  sessionId,
  amountCents,
  currency: "usd",
  paymentIntent: null,
});

Deno.test("a top-up committed between a refund's read and commit is used for the refund, not left spendable beside the debt", async () => {
  await withOrg(async (kv, orgId) => {
    // $10 paid and already spent: a refund of it finds an empty balance at first.
    await creditPaidSession(kv, paid(orgId, "cs_first", 1_000), 1);
    const { debitOrg } = await import("../db/ledger.ts");
    await debitOrg(kv, orgId, 1_000, { reason: "spent" }, 2);
    const attempts: number[] = [];
    const r = await applyChargeRefund(
      kv,
      { orgId, chargeId: "ch_first", amountRefunded: 1_000, paymentIntent: null },
      3,
      {
        async beforeCommit(attempt) {
          attempts.push(attempt);
          // A new $6 top-up lands (sum(), outside the org's chain) after the refund read 0.
          if (attempt === 0) await creditPaidSession(kv, paid(orgId, "cs_second", 600), 3);
        },
      },
    );
    assert.deepEqual(attempts, [0, 1], "the refund saw the balance change and retried");
    assert.deepEqual(r, { refunded: 1_000, debited: 600, owed: 400 });
    assert.equal(await getBalance(kv, orgId), 0);
    assert.equal(await getDebt(kv, orgId), 400);
    assert.ok((await verifyLedger(kv, orgId)).ok);
    const kinds = (await listLedger(kv, orgId)).data.map((e) => [e.kind, e.amount_cents]);
    assert.deepEqual(kinds, [["adjustment", -600], ["topup", 600], ["adjustment", -1_000], [
      "topup",
      1_000,
    ]]);
  });
});

Deno.test("a dispute withdrawal retries too when a top-up lands between its read and commit", async () => {
  await withOrg(async (kv, orgId) => {
    const attempts: number[] = [];
    const r = await applyDisputeWithdrawal(
      kv,
      { orgId, disputeId: "dp_race", chargeId: "ch_race", amountCents: 1_000 },
      3,
      {
        async beforeCommit(attempt) {
          attempts.push(attempt);
          if (attempt === 0) await creditPaidSession(kv, paid(orgId, "cs_race", 700), 3);
        },
      },
    );
    assert.deepEqual(attempts, [0, 1]);
    assert.deepEqual(r, { refunded: 1_000, debited: 700, owed: 300 });
    assert.equal(await getBalance(kv, orgId), 0);
    assert.equal(await getDebt(kv, orgId), 300);
    assert.ok((await verifyLedger(kv, orgId)).ok);
  });
});
