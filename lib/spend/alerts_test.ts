import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { mailerFor } from "../mail.ts";
import { createUser } from "../db/users.ts";
import { addMembership, createOrgWithOwner } from "../db/memberships.ts";
import { creditOrg, verifyLedger } from "../db/ledger.ts";
import { createApiKey } from "../db/apikeys.ts";
import { listCrossings, setSpendSettings } from "../db/spend.ts";
import { createEndpoint, listDeliveries } from "../db/webhooks.ts";
import { attemptDelivery } from "../webhooks/deliver.ts";
import { verifyWebhook } from "../webhooks/sign.ts";
import { createGeneration } from "../generations/service.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import {
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { startSmtp } from "../../tests/support/smtp.ts";
import { type AlertDeps, runBalanceLowJob } from "./alerts.ts";
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
