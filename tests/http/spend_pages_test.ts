import assert from "node:assert/strict";
import { postForm, startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { getKeyLimit, listApiKeys } from "../../lib/db/apikeys.ts";
import { getSpendSettings } from "../../lib/db/spend.ts";

async function get(server: TestServer, path: string, headers: Record<string, string>) {
  const res = await fetch(`${server.url}${path}`, { headers });
  return { status: res.status, html: await res.text() };
}

Deno.test("dashboard: a key created with a limit, edited on its page, shown on /keys", async () => {
  const server = await startTestServer();
  try {
    const { headers, orgId } = await signIn(server);
    const bad = await postForm(server, "/keys", headers, { name: "ci", limit_dollars: "ten" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Enter dollars/);
    assert.equal((await listApiKeys(server.services.kv, orgId)).length, 0, "nothing created");

    const created = await postForm(server, "/keys", headers, {
      name: "ci",
      limit_dollars: "12.50",
      limit_reset: "weekly",
    });
    assert.equal(created.status, 303); // POST -> 303 -> GET: the secret comes from a one-time flash
    await created.body?.cancel();
    const [key] = await listApiKeys(server.services.kv, orgId);
    const limit = await getKeyLimit(server.services.kv, key.id);
    assert.deepEqual([limit?.limit_cents, limit?.limit_reset], [1250, "weekly"]);

    const list = await get(server, "/keys", headers);
    assert.match(list.html, /\$0\.00 of \$12\.50 a week/);
    assert.match(list.html, new RegExp(`href="/keys/${key.id}"`));

    const edited = await postForm(server, `/keys/${key.id}`, headers, {
      limit_dollars: "3",
      limit_reset: "daily",
    });
    assert.equal(edited.status, 303);
    assert.equal((await getKeyLimit(server.services.kv, key.id))?.limit_cents, 300);
    const keyPage = await get(server, `/keys/${key.id}`, headers);
    assert.equal(keyPage.status, 200);
    assert.match(keyPage.html, /\$0\.00 of \$3\.00 a day spent/);
    assert.match(keyPage.html, /All time/);

    // A member sees the page but cannot change the limit; another org's key is 404.
    const member = await signIn(server, { orgId, role: "member" });
    const refused = await postForm(server, `/keys/${key.id}`, member.headers, {
      limit_dollars: "",
    });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const stranger = await signIn(server);
    assert.equal((await get(server, `/keys/${key.id}`, stranger.headers)).status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("dashboard: budget and alert settings on /billing/spend, summary on /billing", async () => {
  const server = await startTestServer();
  try {
    const { headers, orgId } = await signIn(server);
    const saved = await postForm(server, "/billing/spend", headers, {
      monthly_budget_dollars: "200",
      low_balance_dollars: "5.25",
      auto_topup_below_dollars: "",
      auto_topup_amount_dollars: "",
      auto_topup_daily_cap: "3",
    });
    assert.equal(saved.status, 303);
    const s = await getSpendSettings(server.services.kv, orgId);
    assert.deepEqual([s.monthly_budget_cents, s.low_balance_cents], [20000, 525]);

    // Auto top-up needs a saved card (and Stripe): refused with the field named, nothing saved.
    const noCard = await postForm(server, "/billing/spend", headers, {
      monthly_budget_dollars: "1",
      auto_topup_below_dollars: "10",
      auto_topup_amount_dollars: "25",
    });
    assert.equal(noCard.status, 400);
    assert.match(await noCard.text(), /Save a card first/);
    assert.equal((await getSpendSettings(server.services.kv, orgId)).monthly_budget_cents, 20000);

    const billing = await get(server, "/billing", headers);
    assert.match(billing.html, /\$0\.00 of \$200\.00 this month/);
    assert.match(billing.html, /below \$5\.25/);
    const page = await get(server, "/billing/spend", headers);
    assert.match(page.html, /value="200"/);
  } finally {
    await server.close();
  }
});
