import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { startSmtp } from "../support/smtp.ts";
import { createUser } from "../../lib/db/users.ts";
import { createOrgWithOwner } from "../../lib/db/memberships.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { creditOrg, getBalance, listLedger, verifyLedger } from "../../lib/db/ledger.ts";
import { crossingKey, listCrossings, setSpendSettings } from "../../lib/db/spend.ts";
import { createEndpoint, listDeliveries } from "../../lib/db/webhooks.ts";
import { call } from "../support/api.ts";
import { startFalStub } from "../support/fal_stub.ts";

/** Polls `done` every 20 ms for at most `ms`. */
async function until(done: () => Promise<boolean> | boolean, what: string, ms = 20_000) {
  for (const end = Date.now() + ms; !(await done());) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("50 concurrent POSTs crossing the low-balance threshold: one email and one balance.low, through the job queue", async () => {
  const smtp = await startSmtp();
  const fal = startFalStub();
  const got: string[] = [];
  const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    got.push(await req.text());
    return new Response("ok");
  });
  const server = await startTestServer(
    {
      RATE_LIMIT_PER_MINUTE: "10000",
      SMTP_URL: smtp.url,
      MAIL_FROM: "pv@example.com",
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
    await createEndpoint(kv, org.id, { url: `http://127.0.0.1:${receiver.addr.port}/hook` }, 0);
    const clip = { model: "alibaba/wan-2.5", prompt: "p", duration: 5, resolution: "720p" };
    const first = await call(server.url, "POST", "/v1/video/generations", { key, body: clip });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const price = -(await listLedger(kv, org.id)).data[0].amount_cents;
    const start = await getBalance(kv, org.id);
    const threshold = start - 25 * price; // crossed by the 25th of the next 50
    await setSpendSettings(kv, org.id, { low_balance_cents: threshold }, 0);

    const results = await Promise.all(
      Array.from(
        { length: 50 },
        () => call(server.url, "POST", "/v1/video/generations", { key, body: clip }),
      ),
    );
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    assert.equal(await getBalance(kv, org.id), start - 50 * price);

    const crossings = await listCrossings(kv, org.id);
    assert.equal(crossings.length, 1);
    const id = crossings[0].id;
    // The queue runs the alert job, which mails and fans out; the delivery job then POSTs.
    await until(async () => {
      const c = (await kv.get<{ mailed_at: number | null }>(crossingKey(id))).value;
      const ds = (await listDeliveries(kv, org.id, {})).data;
      return c?.mailed_at != null && smtp.inbox.length > 0 &&
        ds.length > 0 && ds.every((d) => d.status === "succeeded");
    }, "the alert's email and webhook");
    assert.equal(smtp.inbox.length, 1);
    assert.match(smtp.inbox[0], /owner@example\.com/);
    assert.equal(got.length, 1);
    const event = JSON.parse(got[0]);
    assert.equal(event.type, "balance.low");
    assert.equal(event.data.threshold_cents, threshold);
    assert.ok(event.data.balance_cents < threshold);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    await server.close();
    await receiver.shutdown();
    await fal.close();
    await smtp.close();
  }
});
