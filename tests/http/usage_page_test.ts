import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { cancelGeneration, createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { failPlan, updateGeneration } from "../../lib/generations/transitions.ts";

Deno.test("usage: 7/30/90-day ranges, cancelled counted, breakdowns by model and key, CSV", async () => {
  const server = await startTestServer();
  try {
    const { services } = server;
    const user = await signIn(server);
    await creditOrg(services.kv, user.orgId, 1000, { kind: "topup", reason: "test" });
    const { record: key } = await createApiKey(services.kv, user.orgId, { name: "ci server" });
    const make = (prompt: string, ctx: { apiKeyId?: string; applicationName?: string }) =>
      createGeneration(
        services.generation,
        user.orgId,
        parseGenerationBody({ model: "local/preview", prompt, duration: 2 }),
        ctx,
      );
    const a = await make('=HYPERLINK("x") from a key', { apiKeyId: key.id });
    const b = await make("cancelled, with a comma", { applicationName: "playground" });
    const c = await make("fails", { apiKeyId: key.id });
    await cancelGeneration(services.generation, user.orgId, b.id);
    await updateGeneration(services.generation, c.id, failPlan("boom", services.now()));

    const get = async (path: string) => {
      const res = await fetch(server.url + path, { headers: user.headers });
      return { res, text: await res.text() };
    };
    const { text: html } = await get("/usage?days=7");
    assert.match(html, /aria-current="page">7 days</);
    assert.match(html, /data-testid="usage-requests">3</);
    assert.match(html, /data-testid="usage-outcomes">0 \/ 1 \/ 1/);
    assert.match(html, /<span class="muted"> \(1 running\)<\/span>/);
    // Separate, labelled charts for requests and for spend.
    assert.match(html, /id="chart-requests-title">Requests per day</);
    assert.match(html, /id="chart-spend-title">Spend per day \(USD\)</);
    const byKey = html.slice(html.indexOf('data-testid="by-key"'));
    assert.match(byKey, /ci server<\/td><td data-label="Requests">2</);
    assert.match(byKey, /Playground<\/td><td data-label="Requests">1</);
    const byModel = html.slice(html.indexOf('data-testid="by-model"'));
    assert.match(byModel, /local\/preview<\/td><td data-label="Requests">3</);
    assert.match((await get("/usage?days=90")).text, /aria-current="page">90 days</);
    assert.match((await get("/usage?days=12")).text, /aria-current="page">30 days</);

    const { res, text: csv } = await get("/usage/export.csv?days=30");
    assert.equal(res.headers.get("Content-Type"), "text/csv; charset=utf-8");
    assert.match(res.headers.get("Content-Disposition")!, /attachment; filename="pipevideo-/);
    const lines = csv.trimEnd().split("\r\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^id,created_at,completed_at,status,model,api_key_id/);
    assert.ok(
      lines.some((l) => l.startsWith(a.id) && l.endsWith(`"'=HYPERLINK(""x"") from a key"`)),
    );
    assert.ok(
      lines.some((l) => l.includes(",cancelled,") && l.endsWith('"cancelled, with a comma"')),
    );
    // Another org sees none of it.
    const other = await signIn(server);
    const theirs = await fetch(server.url + "/usage/export.csv", { headers: other.headers });
    assert.equal((await theirs.text()).trimEnd().split("\r\n").length, 1);
  } finally {
    await server.close();
  }
});
