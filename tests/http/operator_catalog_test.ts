/**
 * CATALOG_FILE over HTTP: an operator's model is on /v1/models and the /models page like a
 * shipped one, priced with PRICE_MARGIN, and a generation of it is charged that price.
 */
import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { call, fundedOrg } from "../support/api.ts";

const CATALOG = {
  models: [{
    slug: "acme/dream-1",
    display_name: "Acme Dream 1",
    routes: [{
      provider: "fal",
      endpoint: "fal-ai/acme/dream-1/text-to-video",
      price: { unit: "second", usd: { "720p": 0.08 } },
      durations: [5, 10],
      resolutions: ["720p"],
      aspect_ratios: ["16:9", "9:16"],
    }],
  }],
};

Deno.test("a CATALOG_FILE model is listed on /v1/models and /models, and charged its price", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(CATALOG));
  // fal is configured but unreachable: the charge is made at submission, before any call.
  const server = await startTestServer({
    CATALOG_FILE: file,
    FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
    FAL_QUEUE_URL: "http://127.0.0.1:9",
    PRICE_MARGIN: "1.5",
  });
  try {
    const org = await fundedOrg(server.services, 1_000);
    const list = await call(server.url, "GET", "/v1/models", { key: org.key });
    assert.equal(list.status, 200);
    const dream = list.body.models.find((m: { slug: string }) => m.slug === "acme/dream-1");
    assert.ok(dream, JSON.stringify(list.body.models.map((m: { slug: string }) => m.slug)));
    assert.deepEqual(dream.pricing.cents, { "720p": 12 }); // ceil(0.08 × 100 × 1.5)
    const page = await (await fetch(server.url + "/models")).text();
    assert.match(page, /Acme Dream 1/);
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: org.key,
      body: { model: "acme/dream-1", prompt: "a dream", duration: 10 },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const usage = await call(server.url, "GET", "/v1/usage", { key: org.key });
    assert.equal(usage.body.credit_balance, 1_000 - 120);
  } finally {
    await server.close();
    await Deno.remove(file);
  }
});
