import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { createServices } from "../services.ts";
import { listModels } from "../catalog/public.ts";
import { getBalance } from "../db/ledger.ts";
import { getGeneration } from "../db/generations.ts";
import { createGeneration } from "../generations/service.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import { pollGeneration, submitGeneration } from "../generations/workers.ts";
import { CatalogFileError, loadCatalog, MODELS } from "./mod.ts";
import { fixture, replay } from "../../tests/support/replay.ts";
import { fundedOrg } from "../../tests/support/generations.ts";

const NOW = Date.UTC(2026, 11, 8, 12);
const FAL_REQ = "/fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b";

/** API.md's minimal example, plus a replacement of a shipped model. */
const CATALOG = {
  models: [
    {
      slug: "acme/dream-1",
      display_name: "Acme Dream 1",
      routes: [{
        provider: "fal",
        endpoint: "fal-ai/acme/dream-1/text-to-video",
        price: { unit: "second", usd: { "720p": 0.08 } },
        durations: [5, 10],
        resolutions: ["720p"],
        aspect_ratios: ["16:9", "9:16"],
        defaults: { enable_safety_checker: true },
      }],
    },
    {
      slug: "luma/ray-2",
      display_name: "Luma Ray 2 (operator)",
      routes: [{
        provider: "luma",
        endpoint: "ray-2",
        price: { unit: "video", usd: { "720p": 0.5 } },
        durations: [5],
        resolutions: ["720p"],
        aspect_ratios: ["16:9"],
      }],
    },
  ],
};

async function catalogFile(data: unknown): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, typeof data === "string" ? data : JSON.stringify(data));
  return file;
}

Deno.test("CATALOG_FILE: adds models and replaces shipped ones of the same slug, in place", async () => {
  const models = await loadCatalog(await catalogFile(CATALOG));
  assert.equal(models.length, MODELS.length + 1);
  const ray = models.find((m) => m.slug === "luma/ray-2")!;
  assert.equal(ray.displayName, "Luma Ray 2 (operator)");
  assert.equal(models.indexOf(ray), MODELS.findIndex((m) => m.slug === "luma/ray-2"));
  const dream = models.at(-1)!;
  assert.equal(dream.slug, "acme/dream-1");
  assert.deepEqual(dream.capabilities.durations, [5, 10]);
  assert.deepEqual(dream.routes[0].cost, { unit: "second", cents: { "720p": 8 } });
  assert.equal(await loadCatalog(undefined), MODELS);
});

Deno.test("CATALOG_FILE: a bad entry stops start-up naming the file and the entry", async () => {
  const bad = structuredClone(CATALOG);
  bad.models[0].routes[0].resolutions = ["720p", "1080p"]; // 1080p has no price
  const file = await catalogFile(bad);
  await assert.rejects(
    loadCatalog(file),
    (e: Error) => {
      assert.ok(e instanceof CatalogFileError);
      assert.ok(e.message.startsWith(`CATALOG_FILE ${file}: models[0].routes[0].price.usd`));
      assert.match(e.message, /\(model acme\/dream-1\): no price for 1080p/);
      return true;
    },
  );
  const typo = structuredClone(CATALOG) as { models: Record<string, unknown>[] };
  typo.models[1].dispaly_name = "x";
  await assert.rejects(loadCatalog(await catalogFile(typo)), /models\[1\] \(model luma\/ray-2\)/);
  await assert.rejects(loadCatalog(await catalogFile("{not json")), /: not JSON/);
  await assert.rejects(loadCatalog("/nonexistent/catalog.json"), /cannot be read/);
  // Start-up builds the services with the catalog: it refuses to start.
  await assert.rejects(
    createServices(testConfig({ CATALOG_FILE: file }), { now: () => NOW }),
    CatalogFileError,
  );
});

Deno.test("a CATALOG_FILE model is listed, priced with PRICE_MARGIN and routed by fal's generic adapter", async () => {
  const f = await fixture("fal");
  await using s = replay([
    { method: "POST", path: "/fal-ai/acme/dream-1/text-to-video", json: f.submitted },
    { method: "GET", path: `${FAL_REQ}/status`, json: f.completed },
    { method: "GET", path: FAL_REQ, json: f.result },
  ]);
  const config = testConfig({
    CATALOG_FILE: await catalogFile(CATALOG),
    FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
    FAL_QUEUE_URL: s.url,
    PRICE_MARGIN: "1.3",
  });
  const services = await createServices(config, { now: () => NOW });
  try {
    const listed = listModels(services).find((m) => m.slug === "acme/dream-1");
    assert.ok(listed, "listed on /v1/models");
    assert.equal(listed.display_name, "Acme Dream 1");
    // ceil(0.08 × 100 × 1.3) = 11 cents a second.
    assert.deepEqual(listed.pricing.cents, { "720p": 11 });
    assert.deepEqual(listed.routes, [{ provider: "fal", host: "fal" }]);

    const deps = { ...services.generation, storage: { ...services.generation.storage } };
    deps.storage.storeFromUrl = () => Promise.resolve({ bytes: 1 });
    const org = await fundedOrg(services.kv, 1_000, NOW);
    const { id } = await createGeneration(
      deps,
      org.id,
      parseGenerationBody({ model: "acme/dream-1", prompt: "a dream", aspect_ratio: "9:16" }),
    );
    assert.equal(await getBalance(services.kv, org.id), 1_000 - 55); // 5 s × 11 cents
    await submitGeneration(deps, id);
    await pollGeneration({ ...deps, now: () => NOW + 60_000 }, id);
    const g = await getGeneration(services.kv, org.id, id);
    assert.equal(g.status, "completed", g.error_message ?? "");
    assert.equal(g.cost_cents, 55);
    s.assertDone();
    // The route's fields as declared (the common names) and its defaults, nothing else.
    assert.deepEqual(s.requests[0].json, {
      enable_safety_checker: true,
      prompt: "a dream",
      duration: "5",
      resolution: "720p",
      aspect_ratio: "9:16",
    });
  } finally {
    services.kv.close();
    await Deno.remove(config.DATA_DIR, { recursive: true }).catch(() => {});
  }
});
