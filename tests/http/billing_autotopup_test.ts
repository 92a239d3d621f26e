import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { startSmtp } from "../support/smtp.ts";
import { signed, stripeTestEnv } from "../support/stripe.ts";
import { autoTopupDeps, createCardSetup, runAutoTopupJob } from "../../lib/billing/autotopup.ts";
import { createUser } from "../../lib/db/users.ts";
import { createOrgWithOwner } from "../../lib/db/memberships.ts";
import { creditOrg, getBalance, verifyLedger } from "../../lib/db/ledger.ts";
import {
  getSavedCard,
  getSpendSettings,
  listAutoTopups,
  setSpendSettings,
} from "../../lib/db/spend.ts";
import { createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { testClock } from "../support/generations.ts";
import { startFalStub } from "../support/fal_stub.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { listLedger } from "../../lib/db/ledger.ts";
import { call } from "../support/api.ts";

/**
 * Plays the parts of Stripe's API that automatic top-up uses, on 127.0.0.1. PaymentIntents honour
 * Idempotency-Key as Stripe does (the same key answers the same object); `mode` picks the card's
 * behaviour.
 */
function fakeStripe() {
  const state = { mode: "ok" as "ok" | "decline" | "sca" };
  const calls: { method: string; path: string; form: URLSearchParams; key: string | null }[] = [];
  const intents = new Map<string, Record<string, unknown>>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const form = new URLSearchParams(await req.text());
    const key = req.headers.get("Idempotency-Key");
    calls.push({ method: req.method, path, form, key });
    if (path === "/v1/customers") return Response.json({ id: "cus_1", object: "customer" });
    if (path === "/v1/checkout/sessions") {
      return Response.json({
        id: "cs_setup_1",
        object: "checkout.session",
        mode: "setup",
        url: "https://checkout.stripe.com/c/setup/cs_setup_1",
      });
    }
    if (path.startsWith("/v1/setup_intents/")) {
      return Response.json({
        id: path.split("/").pop(),
        object: "setup_intent",
        payment_method: {
          id: "pm_card_1",
          object: "payment_method",
          card: { brand: "visa", last4: "4242" },
        },
      });
    }
    if (path === "/v1/payment_intents" && req.method === "POST") {
      if (key && intents.has(key)) return Response.json(intents.get(key));
      const id = `pi_${intents.size + 1}`;
      const pi = {
        id,
        object: "payment_intent",
        amount: Number(form.get("amount")),
        currency: form.get("currency"),
        metadata: {
          org_id: form.get("metadata[org_id]"),
          auto_topup: form.get("metadata[auto_topup]"),
        },
      };
      if (state.mode !== "ok") {
        const error = state.mode === "sca"
          ? { code: "authentication_required", message: "This payment requires authentication." }
          : {
            code: "card_declined",
            decline_code: "insufficient_funds",
            message: "Your card has insufficient funds.",
          };
        const body = {
          error: {
            type: "card_error",
            ...error,
            payment_intent: {
              ...pi,
              status: state.mode === "sca" ? "requires_action" : "requires_payment_method",
            },
          },
        };
        intents.set(key!, body);
        return Response.json(body, { status: 402 });
      }
      const ok = { ...pi, status: "succeeded", amount_received: pi.amount };
      intents.set(key!, ok);
      return Response.json(ok);
    }
    return Response.json({ error: { type: "invalid_request_error" } }, { status: 404 });
  });
  const piCreates = () => calls.filter((c) => c.path === "/v1/payment_intents");
  return {
    state,
    calls,
    intents,
    piCreates,
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}

function succeededEvent(pi: Record<string, unknown>) {
  return {
    id: `evt_${crypto.randomUUID()}`,
    object: "event",
    type: "payment_intent.succeeded",
    created: Math.floor(Date.now() / 1000),
    data: { object: pi },
  };
}

/** Stripe's word that the setup-mode Checkout Session cs_setup_1 saved a card for `orgId`. */
function cardSavedEvent(id: string, orgId: string) {
  return {
    id,
    object: "event",
    type: "checkout.session.completed",
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: "cs_setup_1",
        object: "checkout.session",
        mode: "setup",
        customer: "cus_1",
        setup_intent: "seti_1",
        metadata: { org_id: orgId },
      },
    },
  };
}

async function postEvent(server: TestServer, event: unknown) {
  const { body, signature } = await signed(event);
  const res = await fetch(`${server.url}/api/stripe/webhook`, {
    method: "POST",
    headers: { "Stripe-Signature": signature, "Content-Type": "application/json" },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function setup(
  fn: (ctx: {
    server: TestServer;
    stripe: ReturnType<typeof fakeStripe>;
    smtp: Awaited<ReturnType<typeof startSmtp>>;
    clock: ReturnType<typeof testClock>;
    orgId: string;
    spend: (n: number) => Promise<unknown>;
  }) => Promise<void>,
) {
  const stripe = fakeStripe();
  const smtp = await startSmtp();
  const clock = testClock();
  const server = await startTestServer({
    ...stripeTestEnv(stripe.port),
    SMTP_URL: smtp.url,
    MAIL_FROM: "pv@example.com",
  }, { now: clock.now });
  try {
    const kv = server.services.kv;
    const owner = await createUser(kv, { email: "owner@example.com" });
    const org = await createOrgWithOwner(kv, owner.id, { name: "Acme" });
    await creditOrg(kv, org.id, 150, { kind: "topup", reason: "test" });
    // Save a card: the setup-mode Checkout Session, then its webhook.
    const { url } = await createCardSetup(server.services, { orgId: org.id, userId: owner.id });
    assert.equal(url, "https://checkout.stripe.com/c/setup/cs_setup_1");
    const sessionCall = stripe.calls.find((c) => c.path === "/v1/checkout/sessions")!;
    assert.equal(sessionCall.form.get("mode"), "setup");
    assert.equal(sessionCall.form.get("customer"), "cus_1");
    const saved = await postEvent(server, cardSavedEvent("evt_setup", org.id));
    assert.equal(saved.body.action, "card_saved");
    assert.equal((await getSavedCard(kv, org.id))?.last4, "4242");
    await setSpendSettings(kv, org.id, {
      auto_topup_below_cents: 120,
      auto_topup_amount_cents: 500,
      auto_topup_daily_cap: 2,
    }, clock.now());
    // local/preview at 360p costs 1 cent a second: n one-cent debits, racing.
    const body = parseGenerationBody({
      model: "local/preview",
      prompt: "p",
      duration: 1,
      resolution: "360p",
    });
    const spend = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () => createGeneration(server.services.generation, org.id, body)),
      );
    await fn({ server, stripe, smtp, clock, orgId: org.id, spend });
  } finally {
    await server.close();
    await stripe.close();
    await smtp.close();
  }
}

Deno.test("auto top-up: one PaymentIntent per crossing under racing debits, credited once by duplicate webhooks", async () => {
  await setup(async ({ server, stripe, orgId, spend }) => {
    const kv = server.services.kv;
    await spend(50); // 150 -> 100 crosses 120 once
    const topups = await listAutoTopups(kv, orgId);
    assert.equal(topups.length, 1);
    assert.equal(topups[0].status, "pending");
    const deps = autoTopupDeps(server.services);
    // The job delivered twice at once, then again later.
    await Promise.all([runAutoTopupJob(deps, topups[0].id), runAutoTopupJob(deps, topups[0].id)]);
    await runAutoTopupJob(deps, topups[0].id);
    assert.equal(stripe.intents.size, 1, "one PaymentIntent");
    for (const c of stripe.piCreates()) {
      assert.equal(c.key, `pv-autotopup-${topups[0].id}`);
      assert.equal(c.form.get("off_session"), "true");
      assert.equal(c.form.get("confirm"), "true");
      assert.equal(c.form.get("payment_method"), "pm_card_1");
      assert.equal(c.form.get("amount"), "500");
    }
    assert.equal((await listAutoTopups(kv, orgId))[0].status, "submitted");
    assert.equal(await getBalance(kv, orgId), 100, "not credited before the webhook");

    const pi = [...stripe.intents.values()][0];
    const deliveries = await Promise.all(
      [1, 2, 3].map(() => postEvent(server, succeededEvent(pi))),
    );
    assert.deepEqual(deliveries.map((d) => d.status), [200, 200, 200]);
    assert.equal(deliveries.filter((d) => d.body.action === "credited").length, 1);
    assert.equal(await getBalance(kv, orgId), 600);
    assert.ok((await verifyLedger(kv, orgId)).ok);
    assert.equal((await listAutoTopups(kv, orgId))[0].status, "succeeded");
    // A forged top-up for another org's record credits nothing.
    const forged = await postEvent(
      server,
      succeededEvent({
        ...pi,
        id: "pi_forged",
        metadata: { org_id: "org_other", auto_topup: topups[0].id },
      }),
    );
    assert.equal(forged.body.action, "ignored");
    assert.equal(await getBalance(kv, orgId), 600);
  });
});

Deno.test("auto top-up: a declined card turns it off and mails the admins; SCA is reported, not retried", async () => {
  await setup(async ({ server, stripe, smtp, orgId, spend }) => {
    const kv = server.services.kv;
    const deps = autoTopupDeps(server.services);
    stripe.state.mode = "sca";
    await spend(31); // 150 -> 119
    const [sca] = await listAutoTopups(kv, orgId);
    await runAutoTopupJob(deps, sca.id);
    await runAutoTopupJob(deps, sca.id); // a redelivered job does not try again
    assert.equal(stripe.piCreates().length, 1);
    assert.equal((await listAutoTopups(kv, orgId))[0].status, "requires_action");
    assert.equal(smtp.inbox.length, 1);
    assert.match(smtp.inbox[0], /authentication/);
    // The org name is user text: in the body, never in the subject.
    assert.equal(
      smtp.inbox[0].match(/^Subject: (.*)$/m)![1],
      "Pipevideo: automatic top-up of $5.00 needs your confirmation",
    );
    assert.match(smtp.inbox[0], /Organization: Acme/);
    assert.equal((await getSpendSettings(kv, orgId)).auto_topup_below_cents, 120, "still on");

    stripe.state.mode = "decline";
    await creditOrg(kv, orgId, 100, { kind: "topup", reason: "test" }); // 219: re-armed
    await spend(100); // 219 -> 119
    const [declined] = await listAutoTopups(kv, orgId);
    assert.notEqual(declined.id, sca.id);
    await runAutoTopupJob(deps, declined.id);
    const after = (await listAutoTopups(kv, orgId))[0];
    assert.equal(after.status, "declined");
    assert.match(after.error!, /insufficient funds/);
    const settings = await getSpendSettings(kv, orgId);
    assert.equal(settings.auto_topup_below_cents, null, "turned off");
    assert.match(settings.auto_topup_disabled_reason!, /declined/);
    assert.equal(smtp.inbox.length, 2);
    assert.match(smtp.inbox[1], /declined/);
    assert.match(smtp.inbox[1], /owner@example\.com/);
    // Off: the next crossing owes no top-up.
    await creditOrg(kv, orgId, 100, { kind: "topup", reason: "test" });
    await spend(100);
    assert.equal((await listAutoTopups(kv, orgId)).length, 2);
    assert.equal(await getBalance(kv, orgId), 119);
    assert.ok((await verifyLedger(kv, orgId)).ok);
  });
});

Deno.test("auto top-up: at most the daily cap per UTC day", async () => {
  await setup(async ({ server, stripe, clock, orgId, spend }) => {
    const kv = server.services.kv;
    const deps = autoTopupDeps(server.services);
    // Three crossings in one day (the balance is put back above 120 between them).
    for (let i = 0; i < 3; i++) {
      await spend(40); // 150 -> 110
      const [t] = await listAutoTopups(kv, orgId);
      await runAutoTopupJob(deps, t.id);
      await creditOrg(kv, orgId, 40, { kind: "adjustment", reason: "back to 150" });
    }
    const statuses = (await listAutoTopups(kv, orgId)).map((t) => t.status).reverse();
    assert.deepEqual(statuses, ["submitted", "submitted", "capped"]);
    assert.equal(stripe.intents.size, 2);
    clock.advance(24 * 3600_000); // the next UTC day
    await spend(40);
    const [next] = await listAutoTopups(kv, orgId);
    await runAutoTopupJob(deps, next.id);
    assert.equal((await listAutoTopups(kv, orgId))[0].status, "submitted");
    assert.equal(stripe.intents.size, 3);
  });
});

Deno.test("auto top-up through the real job queue: racing POSTs cross once, one PaymentIntent, one credit", async () => {
  const stripe = fakeStripe();
  const fal = startFalStub();
  const server = await startTestServer(
    {
      ...stripeTestEnv(stripe.port),
      RATE_LIMIT_PER_MINUTE: "10000",
      FAL_KEY: "test-key",
      FAL_QUEUE_URL: fal.url,
    },
    {},
    { background: true },
  );
  try {
    const kv = server.services.kv;
    const owner = await createUser(kv, { email: "owner@example.com" });
    const org = await createOrgWithOwner(kv, owner.id, { name: "Acme" });
    const { key } = await createApiKey(kv, org.id, { name: "k" });
    await creditOrg(kv, org.id, 100_000, { kind: "topup", reason: "test" });
    await createCardSetup(server.services, { orgId: org.id, userId: owner.id });
    await postEvent(server, cardSavedEvent("evt_setup_q", org.id));
    const clip = { model: "alibaba/wan-2.5", prompt: "p", duration: 5, resolution: "720p" };
    assert.equal(
      (await call(server.url, "POST", "/v1/video/generations", { key, body: clip })).status,
      200,
    );
    const price = -(await listLedger(kv, org.id)).data[0].amount_cents;
    const start = await getBalance(kv, org.id);
    await setSpendSettings(kv, org.id, {
      auto_topup_below_cents: start - 15 * price,
      auto_topup_amount_cents: 5_000,
      auto_topup_daily_cap: 3,
    }, Date.now());
    const results = await Promise.all(
      Array.from(
        { length: 30 },
        () => call(server.url, "POST", "/v1/video/generations", { key, body: clip }),
      ),
    );
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    for (
      const end = Date.now() + 20_000;
      (await listAutoTopups(kv, org.id))[0]?.status !== "submitted";
    ) {
      if (Date.now() > end) assert.fail("the queue never ran the top-up job");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await listAutoTopups(kv, org.id)).length, 1);
    assert.equal(stripe.intents.size, 1);
    const pi = [...stripe.intents.values()][0];
    await Promise.all([1, 2].map(() => postEvent(server, succeededEvent(pi))));
    assert.equal(await getBalance(kv, org.id), start - 30 * price + 5_000);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    await server.close();
    await fal.close();
    await stripe.close();
  }
});
