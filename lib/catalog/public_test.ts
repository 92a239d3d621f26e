import assert from "node:assert/strict";
import { BREAKER_MIN_SAMPLES, recordRouteOutcome } from "../generations/breaker.ts";
import { testConfig } from "../config.ts";
import { createServices, type Services } from "../services.ts";
import { cheapestPricing, getModelDetail, honouredModes, listModels } from "./public.ts";
import { planCandidates } from "../generations/service.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import { addModelOutcome } from "../db/usage.ts";
import { findModel, type Route } from "./mod.ts";
import { NotFound } from "../errors.ts";

const NOW = Date.UTC(2026, 10, 27, 12);

async function withServices(env: Record<string, string>, fn: (s: Services) => Promise<void>) {
  const config = testConfig(env);
  const services = await createServices(config, { now: () => NOW });
  try {
    await fn(services);
  } finally {
    services.kv.close();
    await Deno.remove(config.DATA_DIR, { recursive: true }).catch(() => {});
  }
}

Deno.test("listModels offers only models with a configured route; local needs no key", async () => {
  await withServices({}, (s) => {
    const models = listModels(s);
    assert.deepEqual(models.map((m) => m.slug), ["local/preview"]);
    const local = models[0];
    assert.equal(local.display_name, "Local Preview");
    assert.deepEqual(local.routes, [{ provider: "local", host: "local" }]);
    assert.deepEqual(local.pricing, {
      unit: "second",
      currency: "usd",
      cents: { "360p": 1, "480p": 1, "720p": 2, "1080p": 3 },
    });
    assert.deepEqual(local.capabilities.aspect_ratios, ["16:9", "9:16", "1:1"]);
    assert.equal(local.capabilities.image_input, false);
    assert.deepEqual(local.maker, { slug: "local", name: "Pipevideo" });
    return Promise.resolve();
  });
});

Deno.test("listModels prices each resolution at the cheapest configured route, with audio", async () => {
  await withServices({ FAL_KEY: "k", GEMINI_API_KEY: "g", PRICE_MARGIN: "1.25" }, (s) => {
    const veo = listModels(s).find((m) => m.slug === "google/veo-3.1");
    assert.ok(veo);
    // The Gemini API route was retired on 2026-10-22 (its sunset): not offered, fal serves Veo.
    assert.deepEqual(veo.routes, [{ provider: "fal", host: "fal" }]);
    // fal: 20 c/s plain, 40 c/s with audio; margin 1.25.
    assert.deepEqual(veo.pricing.cents, { "720p": 25, "1080p": 25 });
    assert.deepEqual(veo.pricing.audio_cents, { "720p": 50, "1080p": 50 });
    assert.equal(veo.capabilities.audio, true);
    assert.equal(veo.capabilities.defaults.audio, true);
    return Promise.resolve();
  });
});

Deno.test("a route that lacks a resolution neither offers nor prices it", () => {
  const model = findModel("local/preview")!;
  const route = { ...model.routes[0], unsupported: { resolutions: ["1080p"] } };
  const text = honouredModes(model, [route], 1.25).text!;
  assert.deepEqual(text.resolutions, ["360p", "480p", "720p"]);
  assert.deepEqual(text.pricing.cents, { "360p": 1, "480p": 1, "720p": 2 });
});

Deno.test("cheapestPricing: a deprecated route sets no price while a current route exists", () => {
  const model = findModel("local/preview")!;
  const current = { ...model.routes[0] };
  const cheapOld = {
    ...current,
    status: "deprecated" as const,
    listPrice: { unit: "second" as const, cents: { "360p": 0, "480p": 0, "720p": 0, "1080p": 0 } },
  };
  const at = (routes: Route[]) => cheapestPricing(model, [{ res: "720p", routes }], 1.25);
  assert.deepEqual(at([current, cheapOld]).cents["720p"], 2);
  assert.deepEqual(at([cheapOld]).cents["720p"], 0);
});

const PROVIDER_ENV: Record<string, Record<string, string>> = {
  gemini: { GEMINI_API_KEY: "g" },
  fal: { FAL_KEY: "k" },
  replicate: { REPLICATE_API_TOKEN: "r" },
  runway: { RUNWAYML_API_SECRET: "w" },
  luma: { LUMAAI_API_KEY: "l" },
};

Deno.test("/v1/models offers only what createGeneration takes: every option combination, for each provider set", async () => {
  const sets = [...Object.keys(PROVIDER_ENV).map((p) => [p]), Object.keys(PROVIDER_ENV)];
  for (const set of sets) {
    const env = Object.assign({}, ...set.map((p) => PROVIDER_ENV[p]));
    await withServices(env, (s) => {
      for (const m of listModels(s)) {
        const c = m.capabilities;
        // The compat fields are the text-to-video mode (image-to-video for image-only models).
        const flat = c.modes.text ?? c.modes.image!;
        assert.deepEqual(
          [c.durations, c.resolutions, c.aspect_ratios, m.pricing],
          [flat.durations, flat.resolutions, flat.aspect_ratios, flat.pricing],
        );
        assert.equal(c.image_input, !!c.modes.image);
        for (const [mode, o] of Object.entries(c.modes)) {
          const where = `${set.join("+")} ${m.slug} ${mode}`;
          const image = mode === "image" ? { image_url: "https://example.com/a.png" } : {};
          const plan = (body: Record<string, unknown>) => {
            try {
              return planCandidates(
                s.generation,
                parseGenerationBody({ model: m.slug, prompt: "p", ...image, ...body }),
              );
            } catch (err) {
              throw new Error(`${where} ${JSON.stringify(body)}: ${err}`);
            }
          };
          assert.deepEqual(Object.keys(o.pricing.cents), o.resolutions, where);
          for (const resolution of o.resolutions) {
            const prices: number[] = [];
            for (const duration of o.durations_at?.[resolution] ?? o.durations) {
              const combo = { resolution, duration };
              const { candidates } = plan(combo);
              for (const aspect_ratio of o.aspect_ratios) plan({ ...combo, aspect_ratio });
              if (o.seed) plan({ ...combo, seed: 1 });
              if (o.negative_prompt) plan({ ...combo, negative_prompt: "blur" });
              if (o.audio) plan({ ...combo, audio: true });
              const cheapest = Math.min(...candidates.map((x) => x.price_cents));
              const table = c.defaults.audio && o.pricing.audio_cents
                ? o.pricing.audio_cents
                : o.pricing.cents;
              prices.push(cheapest / (o.pricing.unit === "second" ? duration : 1));
              assert.ok(cheapest >= 0 && table[resolution] !== undefined, where);
            }
            // The advertised price is the "from" price: what the cheapest duration costs a unit.
            const table = c.defaults.audio && o.pricing.audio_cents
              ? o.pricing.audio_cents
              : o.pricing.cents;
            assert.equal(Math.min(...prices), table[resolution], `${where} ${resolution} price`);
          }
        }
      }
      return Promise.resolve();
    });
  }
});

Deno.test("/v1/models drops what no configured route honours (Wan text at 480p, Hailuo 1080p on fal, retired Gemini Veo)", async () => {
  await withServices({ FAL_KEY: "k" }, (s) => {
    const wan = listModels(s).find((m) => m.slug === "alibaba/wan-2.5")!;
    assert.ok(!wan.capabilities.resolutions.includes("480p"));
    assert.equal(wan.pricing.cents["480p"], undefined);
    assert.ok(wan.capabilities.modes.image!.resolutions.includes("480p"));
    assert.deepEqual(wan.capabilities.modes.image!.aspect_ratios, [], "follows the image");
    const hailuo = listModels(s).find((m) => m.slug === "minimax/hailuo-02")!;
    assert.ok(!hailuo.capabilities.resolutions.includes("1080p"));
    return Promise.resolve();
  });
  await withServices({ GEMINI_API_KEY: "g" }, (s) => {
    // Its only route there is retired: Veo is not offered with a Gemini key alone.
    assert.equal(listModels(s).find((m) => m.slug === "google/veo-3.1"), undefined);
    return Promise.resolve();
  });
});

Deno.test("getModelDetail decodes the slug, names routes and reports 7-day metrics", async () => {
  await withServices({ FAL_KEY: "k" }, async (s) => {
    const a = s.kv.atomic();
    addModelOutcome(a, "google/veo-3.1", "completed", 1000, NOW);
    addModelOutcome(a, "google/veo-3.1", "failed", null, NOW);
    addModelOutcome(a, "google/veo-3.1", "completed", 3000, NOW - 8 * 86_400_000); // too old
    await a.commit();
    const d = await getModelDetail(s, "google%2Fveo-3.1");
    assert.equal(d.model.id, "google/veo-3.1");
    assert.equal(d.model.slug, "google/veo-3.1");
    assert.deepEqual(d.model.routes, [{
      provider: { slug: "fal", name: "fal.ai" },
      host: { slug: "fal", name: "fal.ai" },
    }]);
    assert.equal(d.metrics.totalRequests, 2);
    assert.equal(d.metrics.completedRequests, 1);
    assert.equal(d.metrics.failedRequests, 1);
    assert.equal(d.metrics.successRate, 50);
    assert.equal(d.metrics.avgLatencyMs, 1000);
    assert.equal((await getModelDetail(s, "google/veo-3.1")).model.slug, "google/veo-3.1");
  });
});

Deno.test("getModelDetail shows each route's breaker: open after failing submits, closed after", async () => {
  await withServices({ FAL_KEY: "k" }, async (s) => {
    const route = async () => (await getModelDetail(s, "alibaba/wan-2.5")).metrics.routes;
    assert.deepEqual(await route(), [{
      provider: "fal",
      breaker: "closed",
      recent_failure_rate: 0,
      duplicate_jobs: 0,
      duplicate_jobs_cancelled: 0,
      interrupted_submits: 0,
      orphans_adopted: 0,
    }]);
    for (let i = 0; i < BREAKER_MIN_SAMPLES; i++) {
      await recordRouteOutcome(s.kv, "alibaba/wan-2.5", "fal", false, s.now());
    }
    assert.equal((await route())[0].breaker, "open");
  });
});

Deno.test("getModelDetail: unknown or unconfigured model is NotFound", async () => {
  await withServices({}, async (s) => {
    await assert.rejects(getModelDetail(s, "nope/nothing"), NotFound);
    await assert.rejects(getModelDetail(s, "google%2Fveo-3.1"), NotFound);
    await assert.rejects(getModelDetail(s, "%E0%A4%A"), NotFound);
  });
});
