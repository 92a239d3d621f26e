import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { mailerFor } from "../mail.ts";
import { createUser } from "../db/users.ts";
import { addMembership, createOrgWithOwner } from "../db/memberships.ts";
import { creditOrg, debitOrg, verifyLedger } from "../db/ledger.ts";
import { createApiKey } from "../db/apikeys.ts";
import { listCrossings, setSpendSettings } from "../db/spend.ts";
import { createEndpoint, listDeliveries } from "../db/webhooks.ts";
import { attemptDelivery } from "../webhooks/deliver.ts";
import { verifyWebhook } from "../webhooks/sign.ts";
import { cancelGeneration, createGeneration } from "../generations/service.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import {
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { decodedMail, startSmtp } from "../../tests/support/smtp.ts";
import { type AlertDeps, ALERTS_PER_DAY, runBalanceLowJob } from "./alerts.ts";
import { balanceLowEventSchema } from "../openapi.ts";

/** A webhook receiver on loopback that records what it is sent. */
function startReceiver() {
  const got: { headers: Headers; body: string }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    got.push({ headers: req.headers, body: await req.text() });
    return new Response("ok");
  });
  return { got, url: `http://127.0.0.1:${server.addr.port}/hook`, close: () => server.shutdown() };
}

Deno.test("50 concurrent debits crossing the threshold: one email to the admins, one balance.low event", async () => {
  const kv = await Deno.openKv(":memory:");
  const smtp = await startSmtp();
  const receiver = startReceiver();
  try {
    const clock = testClock();
    const deps = {
      ...testDeps(kv, "/nonexistent", {
        adapters: { fal: scriptedAdapter("fal", {}).adapter },
        models: [testModel("t/one", "fal", 1)],
        now: clock.now,
      }),
      submitBatch: { maxBatch: 4 }, // 50 debits in many group commits
    };
    const owner = await createUser(kv, { email: "owner@example.com" });
    const admin = await createUser(kv, { email: "admin@example.com" });
    const member = await createUser(kv, { email: "member@example.com" });
    const org = await createOrgWithOwner(kv, owner.id, { name: "Acme" });
    await addMembership(kv, org.id, admin.id, "admin");
    await addMembership(kv, org.id, member.id, "member");
    await creditOrg(kv, org.id, 150, { kind: "topup", reason: "test" });
    await setSpendSettings(kv, org.id, { low_balance_cents: 120 }, clock.now());
    const { secret } = await createEndpoint(kv, org.id, { url: receiver.url }, clock.now());
    const key = await createApiKey(kv, org.id, { name: "k" });

    const body = parseGenerationBody({ model: "t/one", prompt: "p" });
    const made = await Promise.all(
      Array.from({ length: 50 }, () => createGeneration(deps, org.id, body, { apiKeyId: key.id })),
    );
    assert.equal(made.length, 50); // 150 -> 100: the balance crossed 120 once
    const crossings = await listCrossings(kv, org.id);
    assert.equal(crossings.length, 1);
    // The balance after the commit that crossed (a group commit of up to 4 one-cent debits).
    const low = crossings[0].balance_cents;
    assert.ok(low < 120 && low >= 116, String(low));
    assert.equal(crossings[0].threshold_cents, 120);

    const alertDeps: AlertDeps = {
      kv,
      now: clock.now,
      mailer: mailerFor(testConfig({ SMTP_URL: smtp.url, MAIL_FROM: "pv@example.com" })),
      publicUrl: "http://pv.test",
      log: () => {},
    };
    // The job, delivered twice (queues deliver at least once), and concurrently.
    await Promise.all([
      runBalanceLowJob(alertDeps, crossings[0].id),
      runBalanceLowJob(alertDeps, crossings[0].id),
    ]);
    await runBalanceLowJob(alertDeps, crossings[0].id);
    assert.equal(smtp.inbox.length, 1);
    assert.match(smtp.inbox[0], /owner@example\.com/);
    assert.match(smtp.inbox[0], /admin@example\.com/);
    assert.doesNotMatch(smtp.inbox[0], /member@example\.com/);
    assert.match(smtp.inbox[0], /below \$1\.20/);

    const deliveries = (await listDeliveries(kv, org.id, {})).data;
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].event_type, "balance.low");
    await attemptDelivery(kv, deliveries[0].id, { nowMs: clock.now, allowPrivate: true });
    assert.equal(receiver.got.length, 1);
    const sent = receiver.got[0];
    assert.ok(await verifyWebhook(secret, sent.headers, sent.body, clock.now() / 1000));
    assert.ok(balanceLowEventSchema.strict().safeParse(JSON.parse(sent.body)).success);
    assert.deepEqual(JSON.parse(sent.body), {
      type: "balance.low",
      timestamp: new Date(clock.now()).toISOString(),
      data: { organization_id: org.id, balance_cents: low, threshold_cents: 120 },
    });

    // Below the threshold, more debits cross nothing; a credit back above re-arms it.
    await createGeneration(deps, org.id, body);
    assert.equal((await listCrossings(kv, org.id)).length, 1);
    await creditOrg(kv, org.id, 100, { kind: "topup", reason: "test" }); // 99 -> 199
    await Promise.all(Array.from({ length: 80 }, () => createGeneration(deps, org.id, body)));
    const again = await listCrossings(kv, org.id);
    assert.equal(again.length, 2);
    assert.ok(again[0].balance_cents < 120, "newest first");
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    await receiver.close();
    await smtp.close();
    kv.close();
  }
});

Deno.test("submit → cancel loops: a refund does not re-arm the alert; top-ups do, at most ALERTS_PER_DAY a day; no user text in the subject", async () => {
  using kv = await Deno.openKv(":memory:");
  const smtp = await startSmtp();
  try {
    const clock = testClock();
    const deps = testDeps(kv, "/nonexistent", {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [testModel("t/ten", "fal", 10)],
      now: clock.now,
    });
    const owner = await createUser(kv, { email: "owner@example.com" });
    const org = await createOrgWithOwner(kv, owner.id, {
      name: "Claim your refund at https://evil.example/login",
    });
    await creditOrg(kv, org.id, 125, { kind: "topup", reason: "test" }, clock.now());
    await setSpendSettings(kv, org.id, { low_balance_cents: 120 }, clock.now());
    await createEndpoint(kv, org.id, { url: "http://127.0.0.1:9/hook" }, clock.now());
    const alertDeps: AlertDeps = {
      kv,
      now: clock.now,
      mailer: mailerFor(testConfig({ SMTP_URL: smtp.url, MAIL_FROM: "pv@example.com" })),
      publicUrl: "http://pv.test",
      log: () => {},
    };
    const body = parseGenerationBody({ model: "t/ten", prompt: "p" });
    /** One loop: submit (125 -> 115 crosses 120), the alert job, cancel (refunded: back to 125). */
    const loop = async () => {
      const g = await createGeneration(deps, org.id, body);
      clock.advance(1000);
      const [c] = await listCrossings(kv, org.id, 1);
      await runBalanceLowJob(alertDeps, c.id);
      await cancelGeneration(deps, org.id, g.id);
      clock.advance(1000);
    };
    const alerts = async () => (await listDeliveries(kv, org.id, {})).data.length;

    for (let i = 0; i < 10; i++) await loop();
    assert.equal((await listCrossings(kv, org.id, 100)).length, 10, "every loop crossed");
    assert.equal(smtp.inbox.length, 1, "one mail: the refunds did not re-arm the alert");
    assert.equal(await alerts(), 1, "and one balance.low event");

    // Its subject carries no user text; the body quotes the org name as plain text, never a link.
    const raw = smtp.inbox[0];
    assert.equal(raw.match(/^Subject: (.*)$/m)![1], "Pipevideo balance below $1.20");
    const mail = decodedMail(raw);
    assert.ok(mail.includes("Claim your refund at"), "the org name is in the body");
    assert.doesNotMatch(mail, /https?:\/\/evil|evil\.example/);
    assert.deepEqual([...mail.matchAll(/href="([^"]*)"/g)].map((m) => m[1]), [
      "http://pv.test/billing",
    ]);

    /** New money: a one-cent top-up (then taken back by an adjustment, to stay near 120). */
    const topUp = async () => {
      await creditOrg(kv, org.id, 1, { kind: "topup", reason: "test" }, clock.now());
      await debitOrg(kv, org.id, 1, { reason: "test" }, clock.now());
      clock.advance(1000);
    };
    // New money re-arms it: a top-up before each loop, but at most ALERTS_PER_DAY a UTC day.
    for (let i = 0; i < 10; i++) {
      await topUp();
      await loop();
    }
    assert.equal(smtp.inbox.length, ALERTS_PER_DAY);
    assert.equal(await alerts(), ALERTS_PER_DAY);
    clock.advance(86_400_000);
    await topUp();
    await loop();
    assert.equal(smtp.inbox.length, ALERTS_PER_DAY + 1, "the next day, one more");
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    await smtp.close();
  }
});
