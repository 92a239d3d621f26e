import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { createServices, type Services } from "../services.ts";
import { createOrg } from "../db/orgs.ts";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { AppError } from "../errors.ts";
import { handleStripeWebhook } from "./webhook.ts";
import { listPayments } from "./store.ts";
import { getDebt } from "../db/billing.ts";
import {
  chargeRefundedEvent,
  disputeEvent,
  sessionEvent,
  signed,
  TEST_STRIPE_KEY,
  TEST_WEBHOOK_SECRET,
} from "../../tests/support/stripe.ts";

async function setup(): Promise<{ services: Services; orgId: string }> {
  const services = await createServices(
    testConfig({ STRIPE_SECRET_KEY: TEST_STRIPE_KEY, STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }),
    { log: () => {} },
  );
  const org = await createOrg(services.kv, { name: "Acme" });
  return { services, orgId: org.id };
}

async function deliver(services: Services, event: unknown) {
  const { body, signature } = await signed(event);
  return await handleStripeWebhook(services, body, signature);
}

async function rejects400(p: Promise<unknown>) {
  await assert.rejects(p, (e) => e instanceof AppError && e.status === 400);
}

Deno.test("a paid checkout session credits amount_total once, with a topup entry and a payment", async () => {
  const { services, orgId } = await setup();
  try {
    const ev = sessionEvent(orgId, { amount: 2_500, paymentIntent: "pi_one" });
    assert.equal((await deliver(services, ev)).action, "credited");
    assert.equal((await deliver(services, ev)).action, "ignored"); // redelivery
    assert.equal(await getBalance(services.kv, orgId), 2_500);
    const ledger = (await listLedger(services.kv, orgId)).data;
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0].kind, "topup");
    assert.equal(ledger[0].reference, ev.data.object.id);
    const payments = await listPayments(services.kv, orgId);
    assert.equal(payments.length, 1);
    assert.equal(payments[0].payment_intent, "pi_one");
    assert.equal(payments[0].amount_cents, 2_500);
  } finally {
    services.kv.close();
  }
});

Deno.test("completed and async_payment_succeeded for one session credit once", async () => {
  const { services, orgId } = await setup();
  try {
    const sessionId = "cs_test_both";
    await deliver(services, sessionEvent(orgId, { sessionId, paymentStatus: "unpaid" }));
    assert.equal(await getBalance(services.kv, orgId), 0, "unpaid session credits nothing");
    const a = sessionEvent(orgId, { sessionId, type: "checkout.session.async_payment_succeeded" });
    const b = sessionEvent(orgId, { sessionId });
    const results = await Promise.all([deliver(services, a), deliver(services, b)]);
    assert.deepEqual(results.map((r) => r.action).sort(), ["credited", "ignored"]);
    assert.equal(await getBalance(services.kv, orgId), 2_500);
    assert.equal((await listLedger(services.kv, orgId)).data.length, 1);
  } finally {
    services.kv.close();
  }
});

Deno.test("bad signatures and uncreditable events change nothing", async () => {
  const { services, orgId } = await setup();
  try {
    const ev = sessionEvent(orgId);
    const good = await signed(ev);
    const wrong = await signed(ev, "whsec_someone_else");
    await rejects400(handleStripeWebhook(services, wrong.body, wrong.signature));
    await rejects400(
      handleStripeWebhook(services, good.body.replace("2500", "250000"), good.signature),
    );
    await rejects400(handleStripeWebhook(services, good.body, null));
    await rejects400(handleStripeWebhook(services, good.body, "t=1,v1=deadbeef"));
    for (
      const bad of [
        sessionEvent(orgId, { paymentStatus: "unpaid" }),
        sessionEvent(orgId, { paymentStatus: "no_payment_required" }),
        sessionEvent(orgId, { currency: "eur" }),
        sessionEvent("org_01NOSUCHORG0000000000000000"),
        { id: "evt_x", object: "event", type: "customer.created", data: { object: {} } },
      ]
    ) assert.equal((await deliver(services, bad)).action, "ignored");
    assert.equal(await getBalance(services.kv, orgId), 0);
    assert.equal((await listLedger(services.kv, orgId)).data.length, 0);
  } finally {
    services.kv.close();
  }
});

Deno.test("charge.refunded takes the refunded amount back once; partial refunds add up", async () => {
  const { services, orgId } = await setup();
  try {
    await deliver(services, sessionEvent(orgId, { amount: 5_000, paymentIntent: "pi_r" }));
    const first = chargeRefundedEvent({ paymentIntent: "pi_r", amount: 5_000, refunded: 1_000 });
    assert.equal((await deliver(services, first)).action, "refunded");
    assert.equal((await deliver(services, first)).action, "ignored");
    assert.equal(await getBalance(services.kv, orgId), 4_000);
    // A second partial refund: amount_refunded is cumulative; only the difference is taken.
    await deliver(
      services,
      chargeRefundedEvent({ paymentIntent: "pi_r", amount: 5_000, refunded: 3_000 }),
    );
    // An older event arriving late changes nothing.
    await deliver(services, first);
    assert.equal(await getBalance(services.kv, orgId), 2_000);
    const kinds = (await listLedger(services.kv, orgId)).data.map((e) => [e.kind, e.amount_cents]);
    assert.deepEqual(kinds, [["adjustment", -2_000], ["adjustment", -1_000], ["topup", 5_000]]);
    const [payment] = await listPayments(services.kv, orgId);
    assert.equal(payment.refunded_cents, 3_000);
    assert.equal(payment.receipt_url, "https://pay.stripe.com/receipts/pi_r");
    assert.ok((await verifyLedger(services.kv, orgId)).ok);
  } finally {
    services.kv.close();
  }
});

Deno.test("a refund larger than the balance becomes explicit debt, settled by the next top-up", async () => {
  const { services, orgId } = await setup();
  try {
    await deliver(services, sessionEvent(orgId, { amount: 5_000, paymentIntent: "pi_d" }));
    // The org spent most of it.
    const { debitOrg } = await import("../db/ledger.ts");
    await debitOrg(services.kv, orgId, 4_000, { reason: "spent" });
    const r = await deliver(
      services,
      chargeRefundedEvent({ paymentIntent: "pi_d", amount: 5_000, refunded: 5_000 }),
    );
    assert.deepEqual(r, { action: "refunded", orgId, cents: 5_000, owed: 4_000 });
    assert.equal(await getBalance(services.kv, orgId), 0);
    assert.equal(await getDebt(services.kv, orgId), 4_000);
    assert.ok((await verifyLedger(services.kv, orgId)).ok);
    // A $25 top-up pays $25 of the debt; a $50 one pays the rest and leaves $35.
    await deliver(services, sessionEvent(orgId, { amount: 2_500 }));
    assert.equal(await getBalance(services.kv, orgId), 0);
    assert.equal(await getDebt(services.kv, orgId), 1_500);
    await deliver(services, sessionEvent(orgId, { amount: 5_000 }));
    assert.equal(await getBalance(services.kv, orgId), 3_500);
    assert.equal(await getDebt(services.kv, orgId), 0);
    assert.ok((await verifyLedger(services.kv, orgId)).ok);
  } finally {
    services.kv.close();
  }
});

const withdrawn = (pi: string, disputeId: string, amount: number) =>
  disputeEvent("charge.dispute.funds_withdrawn", { paymentIntent: pi, disputeId, amount });
const reinstated = (pi: string, disputeId: string, amount: number) =>
  disputeEvent("charge.dispute.funds_reinstated", { paymentIntent: pi, disputeId, amount });

Deno.test("a dispute's withdrawn funds are taken back once and reinstated funds given back once", async () => {
  const { services, orgId } = await setup();
  try {
    await deliver(services, sessionEvent(orgId, { amount: 5_000, paymentIntent: "pi_dp" }));
    const w = withdrawn("pi_dp", "dp_one", 2_000);
    assert.deepEqual(await deliver(services, w), {
      action: "disputed",
      orgId,
      cents: 2_000,
      owed: 0,
    });
    // Redelivered, and the same dispute in a new event: nothing more is taken.
    assert.equal((await deliver(services, w)).action, "ignored");
    assert.equal((await deliver(services, withdrawn("pi_dp", "dp_one", 2_000))).action, "ignored");
    assert.equal(await getBalance(services.kv, orgId), 3_000);

    const back = reinstated("pi_dp", "dp_one", 2_000);
    assert.deepEqual(await deliver(services, back), { action: "reinstated", orgId, cents: 2_000 });
    assert.equal((await deliver(services, back)).action, "ignored");
    assert.equal((await deliver(services, w)).action, "ignored", "a late withdrawal redelivery");
    assert.equal(await getBalance(services.kv, orgId), 5_000);
    const kinds = (await listLedger(services.kv, orgId)).data.map((e) => [e.kind, e.amount_cents]);
    assert.deepEqual(kinds, [["adjustment", 2_000], ["adjustment", -2_000], ["topup", 5_000]]);
    assert.ok((await verifyLedger(services.kv, orgId)).ok);
  } finally {
    services.kv.close();
  }
});

Deno.test("a dispute larger than the balance becomes refund debt; its reinstatement pays the debt first", async () => {
  const { services, orgId } = await setup();
  try {
    await deliver(services, sessionEvent(orgId, { amount: 5_000, paymentIntent: "pi_dd" }));
    const { debitOrg } = await import("../db/ledger.ts");
    await debitOrg(services.kv, orgId, 4_000, { reason: "spent" });
    // Two deliveries of the same withdrawal at once: one applies.
    const w = withdrawn("pi_dd", "dp_big", 5_000);
    const both = await Promise.all([deliver(services, w), deliver(services, w)]);
    assert.deepEqual(both.map((r) => r.action).sort(), ["disputed", "ignored"]);
    assert.deepEqual(both.find((r) => r.action === "disputed"), {
      action: "disputed",
      orgId,
      cents: 5_000,
      owed: 4_000,
    });
    assert.equal(await getBalance(services.kv, orgId), 0);
    assert.equal(await getDebt(services.kv, orgId), 4_000);
    assert.ok((await verifyLedger(services.kv, orgId)).ok);

    await deliver(services, reinstated("pi_dd", "dp_big", 5_000));
    assert.equal(await getDebt(services.kv, orgId), 0);
    assert.equal(await getBalance(services.kv, orgId), 1_000, "back to where it was");
    assert.ok((await verifyLedger(services.kv, orgId)).ok);
  } finally {
    services.kv.close();
  }
});

Deno.test("disputes: reinstated before withdrawn moves nothing; unknown or foreign-currency disputes are ignored", async () => {
  const { services, orgId } = await setup();
  try {
    await deliver(services, sessionEvent(orgId, { amount: 3_000, paymentIntent: "pi_oo" }));
    assert.equal((await deliver(services, reinstated("pi_oo", "dp_oo", 1_000))).action, "ignored");
    assert.equal((await deliver(services, withdrawn("pi_oo", "dp_oo", 1_000))).action, "ignored");
    assert.equal(
      (await deliver(services, withdrawn("pi_not_ours", "dp_x", 1_000))).action,
      "ignored",
    );
    const eur = disputeEvent("charge.dispute.funds_withdrawn", {
      paymentIntent: "pi_oo",
      disputeId: "dp_eur",
      amount: 1_000,
      currency: "eur",
    });
    assert.equal((await deliver(services, eur)).action, "ignored");
    assert.equal(await getBalance(services.kv, orgId), 3_000);
    assert.equal((await listLedger(services.kv, orgId)).data.length, 1);
  } finally {
    services.kv.close();
  }
});
