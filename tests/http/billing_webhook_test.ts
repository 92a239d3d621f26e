import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createOrg } from "../../lib/db/orgs.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { creditOrg, getBalance, listLedger, verifyLedger } from "../../lib/db/ledger.ts";
import {
  chargeRefundedEvent,
  disputeEvent,
  sessionEvent,
  signed,
  TEST_STRIPE_KEY,
  TEST_WEBHOOK_SECRET,
} from "../support/stripe.ts";

const ENV = { STRIPE_SECRET_KEY: TEST_STRIPE_KEY, STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET };

async function post(server: TestServer, body: string, signature?: string) {
  const res = await fetch(`${server.url}/api/stripe/webhook`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      // Stripe is another site; the webhook must not be refused as cross-site.
      Origin: "https://stripe.com",
      ...(signature ? { "Stripe-Signature": signature } : {}),
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("POST /api/stripe/webhook: credits once over HTTP; bad signatures are 400 and change nothing", async () => {
  const server = await startTestServer(ENV);
  try {
    const org = await createOrg(server.services.kv, { name: "Acme" });
    const ev = sessionEvent(org.id, { amount: 1_500, paymentIntent: "pi_http" });
    const good = await signed(ev);
    const wrong = await signed(ev, "whsec_not_ours_0000");

    assert.equal((await post(server, good.body)).status, 400); // no signature
    assert.equal((await post(server, wrong.body, wrong.signature)).status, 400);
    const tampered = good.body.replace('"amount_total":1500', '"amount_total":999999');
    assert.notEqual(tampered, good.body);
    const t = await post(server, tampered, good.signature);
    assert.equal(t.status, 400);
    assert.equal(t.body.error.code, "bad_signature");
    assert.equal(await getBalance(server.services.kv, org.id), 0);

    const first = await post(server, good.body, good.signature);
    assert.deepEqual(first, { status: 200, body: { received: true, action: "credited" } });
    const again = await post(server, good.body, good.signature);
    assert.equal(again.status, 200);
    assert.equal(again.body.action, "ignored");
    assert.equal(await getBalance(server.services.kv, org.id), 1_500);

    const unknown = await signed({
      id: "evt_u",
      object: "event",
      type: "invoice.paid",
      data: { object: {} },
    });
    assert.equal((await post(server, unknown.body, unknown.signature)).status, 200);

    const refund = await signed(
      chargeRefundedEvent({ paymentIntent: "pi_http", amount: 1_500, refunded: 500 }),
    );
    assert.equal((await post(server, refund.body, refund.signature)).body.action, "refunded");
    assert.equal((await post(server, refund.body, refund.signature)).body.action, "ignored");
    assert.equal(await getBalance(server.services.kv, org.id), 1_000);
    const kinds = (await listLedger(server.services.kv, org.id)).data.map((e) => e.kind);
    assert.deepEqual(kinds, ["adjustment", "topup"]);
    assert.ok((await verifyLedger(server.services.kv, org.id)).ok);
  } finally {
    await server.close();
  }
});

Deno.test("POST /api/stripe/webhook: a dispute's withdrawn funds are debited once and reinstated once", async () => {
  const server = await startTestServer(ENV);
  try {
    const { kv } = server.services;
    const org = await createOrg(kv, { name: "Acme" });
    const paid = await signed(sessionEvent(org.id, { amount: 2_000, paymentIntent: "pi_dsp" }));
    assert.equal((await post(server, paid.body, paid.signature)).body.action, "credited");
    const dispute = { paymentIntent: "pi_dsp", disputeId: "dp_http", amount: 1_500 };
    const w = await signed(disputeEvent("charge.dispute.funds_withdrawn", dispute));
    assert.deepEqual(await post(server, w.body, w.signature), {
      status: 200,
      body: { received: true, action: "disputed" },
    });
    assert.equal((await post(server, w.body, w.signature)).body.action, "ignored");
    assert.equal(await getBalance(kv, org.id), 500);
    const r = await signed(disputeEvent("charge.dispute.funds_reinstated", dispute));
    assert.equal((await post(server, r.body, r.signature)).body.action, "reinstated");
    assert.equal((await post(server, r.body, r.signature)).body.action, "ignored");
    assert.equal(await getBalance(kv, org.id), 2_000);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    await server.close();
  }
});

Deno.test("POST /api/stripe/webhook is 400 when Stripe is not configured", async () => {
  const server = await startTestServer();
  try {
    const org = await createOrg(server.services.kv, { name: "Acme" });
    const s = await signed(sessionEvent(org.id));
    assert.equal((await post(server, s.body, s.signature)).status, 400);
    assert.equal(await getBalance(server.services.kv, org.id), 0);
  } finally {
    await server.close();
  }
});

Deno.test("50 signed top-ups and 50 API generations racing over HTTP on one org: balance == sum(ledger)", async () => {
  const server = await startTestServer({ ...ENV, RATE_LIMIT_PER_MINUTE: "1000" });
  try {
    const { kv } = server.services;
    const org = await createOrg(kv, { name: "Busy" });
    const { key } = await createApiKey(kv, org.id, { name: "race" });
    await creditOrg(kv, org.id, 10, { kind: "topup", reason: "seed" }); // >= 10 charges succeed
    const deliveries = await Promise.all(
      Array.from({ length: 50 }, () => signed(sessionEvent(org.id, { amount: 500 }))),
    );
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => [
        post(server, deliveries[i].body, deliveries[i].signature).then((r) => r.status),
        fetch(`${server.url}/v1/video/generations`, {
          method: "POST",
          headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            model: "local/preview",
            prompt: `race ${i}`,
            duration: 1,
            resolution: "360p",
          }),
        }).then(async (r) => (await r.body?.cancel(), r.status)),
      ]).flat(),
    );
    const webhook = statuses.filter((_, i) => i % 2 === 0);
    const api = statuses.filter((_, i) => i % 2 === 1);
    assert.ok(webhook.every((s) => s === 200), JSON.stringify(webhook));
    assert.ok(api.every((s) => s === 200 || s === 402), JSON.stringify(api));
    const charges = (await listLedger(kv, org.id, { limit: 200 })).data;
    const charged = api.filter((s) => s === 200).length;
    assert.ok(charged >= 10, `only ${charged} generations charged`);
    assert.equal(charges.filter((e) => e.kind === "topup").length, 51);
    assert.equal(
      charges.filter((e) => e.kind === "charge").length,
      api.filter((s) => s === 200).length,
    );
    const v = await verifyLedger(kv, org.id);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.balance, 10 + 50 * 500 - charged);
  } finally {
    await server.close();
  }
});
