import assert from "node:assert/strict";
import { postForm, startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { getBalance, listLedger } from "../../lib/db/ledger.ts";
import { stripeTestEnv, TEST_STRIPE_KEY } from "../support/stripe.ts";

interface SeenRequest {
  path: string;
  form: URLSearchParams;
  idempotencyKey: string | null;
  auth: string | null;
}

/** Plays Stripe's POST /v1/checkout/sessions on 127.0.0.1; `fail` answers the next N with 500. */
function fakeStripe() {
  const seen: SeenRequest[] = [];
  const state = { fail: 0 };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.push({
      path,
      form: new URLSearchParams(await req.text()),
      idempotencyKey: req.headers.get("Idempotency-Key"),
      auth: req.headers.get("Authorization"),
    });
    if (state.fail > 0) {
      state.fail--;
      return Response.json({ error: { type: "api_error", message: "boom" } }, { status: 500 });
    }
    if (req.method !== "POST" || path !== "/v1/checkout/sessions") {
      return Response.json({ error: { type: "invalid_request_error" } }, { status: 404 });
    }
    const id = `cs_test_${seen.length}`;
    return Response.json({
      id,
      object: "checkout.session",
      mode: "payment",
      url: `https://checkout.stripe.com/c/pay/${id}`,
    });
  });
  return { seen, state, port: server.addr.port, close: () => server.shutdown() };
}

async function withStripe(
  fn: (server: TestServer, stripe: ReturnType<typeof fakeStripe>) => Promise<void>,
) {
  const stripe = fakeStripe();
  const server = await startTestServer({
    ...stripeTestEnv(stripe.port),
    PUBLIC_URL: "https://pipevideo.example",
  });
  try {
    await fn(server, stripe);
  } finally {
    await server.close();
    await stripe.close();
  }
}

Deno.test("Add funds creates a payment-mode Checkout Session with the org and our URLs, then 303s to Stripe", async () => {
  await withStripe(async (server, stripe) => {
    const user = await signIn(server);
    const page = await fetch(`${server.url}/billing`, { headers: user.headers });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /Add funds/);
    assert.doesNotMatch(html, /development credits/i);
    const attempt = /name="attempt" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(attempt);

    const res = await postForm(server, "/billing", user.headers, { attempt, amount_cents: "2500" });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("Location"), "https://checkout.stripe.com/c/pay/cs_test_1");
    assert.equal(stripe.seen.length, 1);
    const { form, path, idempotencyKey, auth } = stripe.seen[0];
    assert.equal(path, "/v1/checkout/sessions");
    assert.equal(auth, `Bearer ${TEST_STRIPE_KEY}`);
    assert.equal(form.get("mode"), "payment");
    assert.equal(form.get("line_items[0][price_data][unit_amount]"), "2500");
    assert.equal(form.get("line_items[0][price_data][currency]"), "usd");
    assert.equal(form.get("line_items[0][quantity]"), "1");
    assert.equal(form.get("client_reference_id"), user.orgId);
    assert.equal(form.get("metadata[org_id]"), user.orgId);
    assert.equal(form.get("metadata[user_id]"), user.userId);
    assert.equal(form.get("payment_intent_data[metadata][org_id]"), user.orgId);
    assert.equal(
      form.get("success_url"),
      "https://pipevideo.example/billing/success?session_id={CHECKOUT_SESSION_ID}",
    );
    assert.equal(form.get("cancel_url"), "https://pipevideo.example/billing/cancel");
    assert.ok(idempotencyKey?.includes(attempt));

    // The same form submitted twice carries the same idempotency key (Stripe answers the same
    // session); a custom amount in dollars wins over the preset.
    (await postForm(server, "/billing", user.headers, { attempt, amount_cents: "2500" })).body
      ?.cancel();
    assert.equal(stripe.seen[1].idempotencyKey, idempotencyKey);
    const custom = await postForm(server, "/billing", user.headers, {
      attempt,
      amount_cents: "2500",
      custom_amount: "$1,000",
    });
    await custom.body?.cancel();
    assert.equal(custom.status, 303);
    assert.equal(stripe.seen[2].form.get("line_items[0][price_data][unit_amount]"), "100000");
    assert.notEqual(stripe.seen[2].idempotencyKey, idempotencyKey);
    // Nothing is credited by creating a session or coming back to the success page.
    const ok = await fetch(`${server.url}/billing/success?session_id=cs_test_1`, {
      headers: user.headers,
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(await getBalance(server.services.kv, user.orgId), 0);
  });
});

Deno.test("the SDK retries a failed Checkout call with the same idempotency key", async () => {
  await withStripe(async (server, stripe) => {
    const user = await signIn(server);
    stripe.state.fail = 1;
    const res = await postForm(server, "/billing", user.headers, { amount_cents: "1000" });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(stripe.seen.length, 2);
    assert.ok(stripe.seen[0].idempotencyKey);
    assert.equal(stripe.seen[1].idempotencyKey, stripe.seen[0].idempotencyKey);
    // Stripe down for every retry: 502, the billing page with a retry banner, nothing credited.
    stripe.state.fail = 10;
    const down = await postForm(server, "/billing", user.headers, { amount_cents: "1000" });
    assert.equal(down.status, 502);
    assert.match(await down.text(), /Stripe could not be reached.*Nothing was charged/);
  });
});

Deno.test("bad amounts and non-admins never reach Stripe", async () => {
  await withStripe(async (server, stripe) => {
    const user = await signIn(server);
    for (
      const form of [
        { amount_cents: "499" },
        { amount_cents: "100001" },
        { amount_cents: "abc" },
        {},
        { custom_amount: "4.99" },
        { custom_amount: "1000.01" },
        { custom_amount: "ten dollars" },
        { custom_amount: "-20" },
      ]
    ) {
      const res = await postForm(server, "/billing", user.headers, form as Record<string, string>);
      const html = await res.text();
      assert.equal(res.status, 400, JSON.stringify(form));
      assert.match(html, /field-error|between \$5\.00 and \$1,000\.00|Choose an amount/);
    }
    const member = await signIn(server, { role: "member", orgId: user.orgId });
    const view = await fetch(`${server.url}/billing`, { headers: member.headers });
    const html = await view.text();
    assert.equal(view.status, 200);
    assert.doesNotMatch(html, /Continue to payment/);
    const res = await postForm(server, "/billing", member.headers, { amount_cents: "1000" });
    await res.body?.cancel();
    assert.equal(res.status, 403);
    // Development credits do not exist when Stripe is configured.
    const dev = await postForm(server, "/billing/dev-credits", user.headers, {
      amount_cents: "1000",
    });
    await dev.body?.cancel();
    assert.equal(dev.status, 404);
    assert.equal(stripe.seen.length, 0);
  });
});

Deno.test("development credits: admins add them without Stripe; 404 in production", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server);
    const html = await (await fetch(`${server.url}/billing`, { headers: user.headers })).text();
    assert.match(html, /Add development credits/);
    assert.match(html, /data-testid="low-balance"/);
    const res = await postForm(server, "/billing/dev-credits", user.headers, {
      amount_cents: "5000",
    });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("Location"), "/billing");
    assert.equal(await getBalance(server.services.kv, user.orgId), 5_000);
    const [entry] = (await listLedger(server.services.kv, user.orgId)).data;
    assert.equal(entry.kind, "adjustment");
    const member = await signIn(server, { role: "member", orgId: user.orgId });
    const denied = await postForm(server, "/billing/dev-credits", member.headers, {
      amount_cents: "5000",
    });
    await denied.body?.cancel();
    assert.equal(denied.status, 403);
    const after = await (await fetch(`${server.url}/billing`, { headers: user.headers })).text();
    assert.match(after, /\$50\.00/);
    assert.doesNotMatch(after, /data-testid="low-balance"/);
  } finally {
    await server.close();
  }
  const prod = await startTestServer({
    APP_ENV: "production",
    SECRET_KEY: "s".repeat(40),
    PUBLIC_URL: "https://pipevideo.example",
  });
  try {
    const user = await signIn(prod);
    const res = await postForm(prod, "/billing/dev-credits", user.headers, {
      amount_cents: "5000",
    });
    await res.body?.cancel();
    assert.equal(res.status, 404);
    assert.equal(await getBalance(prod.services.kv, user.orgId), 0);
    const html = await (await fetch(`${prod.url}/billing`, { headers: user.headers })).text();
    assert.doesNotMatch(html, /development credits/i);
  } finally {
    await prod.close();
  }
});
