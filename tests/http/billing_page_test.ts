import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { debitOrg } from "../../lib/db/ledger.ts";
import { applyStripeEvent } from "../../lib/billing/webhook.ts";
import { chargeRefundedEvent, sessionEvent } from "../support/stripe.ts";
import type Stripe from "stripe";

const apply = (server: Awaited<ReturnType<typeof startTestServer>>, ev: unknown) =>
  applyStripeEvent(server.services, ev as Stripe.Event);

Deno.test("billing page: payments with receipts, refund debt notice, ledger pages with running balance", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server);
    const { kv } = server.services;
    await apply(server, sessionEvent(user.orgId, { amount: 3_000, paymentIntent: "pi_page" }));
    for (let i = 0; i < 30; i++) await debitOrg(kv, user.orgId, 100, { reason: `spend ${i}` });
    await apply(
      server,
      chargeRefundedEvent({ paymentIntent: "pi_page", amount: 3_000, refunded: 3_000 }),
    );

    const res = await fetch(`${server.url}/billing`, { headers: user.headers });
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /data-testid="refund-debt"[^>]*>.*Refund debt: \$30\.00/s);
    assert.match(html, /href="https:\/\/pay\.stripe\.com\/receipts\/pi_page"/);
    assert.match(html, /<td class="num">\$30\.00<\/td>/); // refunded column
    // Each ledger row's time: in words, the exact value kept in <time datetime>.
    const rows = html.match(
      /<td><time datetime="\d{4}-\d\d-\d\dT[^"]+"[^>]*>[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M UTC<\/time><\/td>/g,
    ) ?? [];
    assert.ok(rows.length >= 25);
    const older = /href="\/billing\?cursor=([^"]+)"/.exec(html)?.[1];
    assert.ok(older, "a link to older entries");
    const p2 = await fetch(`${server.url}/billing?cursor=${older}`, { headers: user.headers });
    const html2 = await p2.text();
    // The oldest entry is the $30 top-up, with $30 after it.
    assert.match(html2, /Stripe Checkout payment.*\+\$30\.00.*\$30\.00/s);
    assert.match(html2, /href="\/billing">Newest/);
  } finally {
    await server.close();
  }
});
