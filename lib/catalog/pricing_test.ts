import assert from "node:assert/strict";
import { findModel, MODELS, priceOn, routePrice, routeSupports } from "./mod.ts";
import type { VideoRequest } from "../providers/types.ts";

Deno.test("catalog: slugs are unique maker/model and makers match", () => {
  const slugs = MODELS.map((m) => m.slug);
  assert.equal(new Set(slugs).size, slugs.length);
  for (const m of MODELS) {
    assert.match(m.slug, /^[a-z0-9-]+\/[a-z0-9.-]+$/);
    assert.equal(m.slug.split("/")[0], m.maker.slug, m.slug);
    assert.ok(m.routes.length > 0, m.slug);
  }
  assert.ok(!slugs.some((s) => s.includes("sora")), "Sora's API is shut down");
});

Deno.test("catalog: defaults are among the capabilities", () => {
  for (const { slug, capabilities: c } of MODELS) {
    assert.ok(c.durations.includes(c.defaults.duration), slug);
    assert.ok(c.resolutions.includes(c.defaults.resolution), slug);
    assert.ok(c.aspectRatios.includes(c.defaults.aspectRatio), slug);
    if (c.imageRequired) assert.ok(c.imageInput, slug);
    if (c.defaults.audio) assert.ok(c.audio, slug);
  }
});

Deno.test("catalog: every route prices every resolution it supports, audio when the model has it", () => {
  for (const m of MODELS) {
    for (const r of m.routes) {
      const served = [r.modes?.text, r.modes?.image].flatMap((mode) => mode?.resolutions ?? []);
      for (const res of m.capabilities.resolutions) {
        if (!served.includes(res)) continue;
        const where = `${m.slug} on ${r.provider} at ${res}`;
        assert.ok(typeof r.cost.cents[res] === "number", `${where}: no cost`);
        if (m.capabilities.audio && r.provider !== "local") {
          assert.ok(typeof r.cost.audioCents?.[res] === "number", `${where}: no audio cost`);
        }
      }
    }
  }
});

Deno.test("catalog: the charge is whole cents, never below upstream cost", () => {
  const margin = 1.25;
  for (const m of MODELS) {
    for (const r of m.routes) {
      for (const res of m.capabilities.resolutions) {
        for (const audio of m.capabilities.audio ? [false, true] : [false]) {
          const req: VideoRequest = {
            prompt: "x",
            duration: m.capabilities.defaults.duration,
            resolution: res,
            aspectRatio: m.capabilities.defaults.aspectRatio,
            audio,
          };
          if (!routeSupports(r, req)) continue;
          const charge = priceOn(r, req, margin);
          const table = audio && r.cost.audioCents ? r.cost.audioCents : r.cost.cents;
          const cost = table[res] * (r.cost.unit === "second" ? req.duration : 1);
          assert.ok(Number.isInteger(charge), `${m.slug}: ${charge}`);
          assert.ok(charge >= cost, `${m.slug} ${r.provider} ${res}: ${charge} < ${cost}`);
        }
      }
    }
  }
});

Deno.test("catalog: known prices come out as expected", () => {
  const veo = findModel("google/veo-3.1")!;
  const gemini = veo.routes.find((r) => r.provider === "gemini")!;
  const req = { prompt: "x", duration: 8, resolution: "720p", aspectRatio: "16:9", audio: true };
  assert.equal(priceOn(gemini, req, 1.25), 400); // 40 c/s × 1.25 × 8 s
  const kling3 = findModel("kwaivgi/kling-v3-pro")!.routes[0];
  assert.deepEqual(routePrice(kling3, 1.25).cents, { "1080p": 14 }); // 11.2 × 1.25 = 14
  const hailuoFal = findModel("minimax/hailuo-02")!.routes.find((r) => r.provider === "fal")!;
  assert.equal(routeSupports(hailuoFal, { ...req, resolution: "1080p" }), false);
});
