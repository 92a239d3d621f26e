/**
 * Route modes and routing: an option is honoured by the route that runs it, or the request is
 * refused with 400 naming it; deprecated and sunset routes step aside.
 */
import assert from "node:assert/strict";
import { findModel, type Model, MODELS, priceOn, type RouteMode } from "./mod.ts";
import { BadRequest } from "../errors.ts";
import { planCandidates } from "../generations/service.ts";
import { scriptedAdapter, testDeps, testModel } from "../../tests/support/generations.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import type { ProviderId } from "../providers/types.ts";

const kv = await Deno.openKv(":memory:");
// Before the Gemini Veo routes' sunset (2026-10-22), so their route modes are still exercised;
// after it they are not offered at all (last test).
const NOW = Date.UTC(2026, 9, 1);
const MARGIN = 1.25; // testDeps'

function plan(body: Record<string, unknown>, providers: ProviderId[], models?: Model[]) {
  const adapters = Object.fromEntries(providers.map((p) => [p, scriptedAdapter(p, {}).adapter]));
  const deps = testDeps(kv, "/unused", { adapters, now: () => NOW, ...(models ? { models } : {}) });
  return planCandidates(deps, parseGenerationBody({ prompt: "a fox", ...body }));
}

function refused(body: Record<string, unknown>, providers: ProviderId[], param: string) {
  assert.throws(() => plan(body, providers), (err: Error) => {
    assert.ok(err instanceof BadRequest, String(err));
    assert.equal(err.param, param, err.message);
    return true;
  });
}

const image_url = "https://example.com/first.png";

Deno.test("routing: aspect_ratio goes only where the endpoint has it; an explicit one is refused elsewhere", () => {
  // fal's Kling 2.5 and 3.0 image-to-video and Wan image-to-video take no aspect ratio.
  for (const model of ["kwaivgi/kling-v2.5-turbo-pro", "kwaivgi/kling-v3-pro", "alibaba/wan-2.5"]) {
    refused({ model, image_url, aspect_ratio: "9:16" }, ["fal"], "aspect_ratio");
    // Not asked for: the video follows the image, nothing to refuse.
    assert.equal(plan({ model, image_url }, ["fal"]).candidates.length, 1, model);
    // Text-to-video has the field.
    assert.equal(plan({ model, aspect_ratio: "9:16" }, ["fal"]).candidates.length, 1, model);
  }
  // Hailuo (fal and Replicate) has no aspect ratio at all: 16:9 is what it makes.
  refused({ model: "minimax/hailuo-02", image_url, aspect_ratio: "16:9" }, ["fal"], "aspect_ratio");
  assert.equal(plan({ model: "minimax/hailuo-02" }, ["fal", "replicate"]).candidates.length, 2);
});

Deno.test("routing: a seed goes to a route that takes one, or is refused with param seed", () => {
  // The Gemini API has no seed; fal's Veo does.
  const both = plan({ model: "google/veo-3.1", seed: 7 }, ["gemini", "fal"]);
  assert.deepEqual(both.candidates.map((c) => c.provider), ["fal"]);
  refused({ model: "google/veo-3.1", seed: 7 }, ["gemini"], "seed");
  assert.deepEqual(
    plan({ model: "google/veo-3.1" }, ["gemini", "fal"]).candidates.map((c) => c.provider).sort(),
    ["fal", "gemini"],
  );
  // A model without seeds refuses it instead of dropping it silently.
  refused({ model: "kwaivgi/kling-v3-pro", seed: 7 }, ["fal"], "seed");
  refused(
    {
      models: ["google/veo-3.1", "kwaivgi/kling-v3-pro"],
      seed: 7,
      resolution: "1080p",
      duration: 8,
    },
    ["fal"],
    "seed",
  );
  refused(
    { model: "bytedance/seedance-1-pro", negative_prompt: "blur" },
    ["fal"],
    "negative_prompt",
  );
  // Wan always adds background music (no audio_url): a silent clip is refused, not faked.
  refused({ model: "alibaba/wan-2.5", audio: false }, ["fal"], "audio");
});

Deno.test("routing: audio false is not sent to the Gemini API, which always makes sound", () => {
  const p = plan({ model: "google/veo-3.1-fast", audio: false }, ["gemini", "fal"]);
  assert.deepEqual(p.candidates.map((c) => c.provider), ["fal"]);
  refused({ model: "google/veo-3.1-fast", audio: false }, ["gemini"], "audio");
  // In a list with a silent model too, a said audio: false still keeps Veo off the Gemini API.
  const list = plan(
    {
      models: ["google/veo-3.1-fast", "runway/gen4-turbo"],
      audio: false,
      duration: 4,
      image_url,
    },
    ["gemini", "runway"],
  );
  assert.deepEqual(list.candidates.map((c) => `${c.model} ${c.provider}`), [
    "runway/gen4-turbo runway",
  ]);
  // Not said: Kling 3's default (no sound) does not keep Veo off the Gemini API, where the
  // price is the one with sound, as the video has it.
  const defaulted = plan(
    {
      models: ["kwaivgi/kling-v3-pro", "google/veo-3.1"],
      duration: 8,
      resolution: "1080p",
      provider: "gemini",
    },
    ["gemini", "fal"],
  );
  assert.deepEqual(defaulted.candidates.map((c) => `${c.model} ${c.provider}`), [
    "google/veo-3.1 gemini",
  ]);
  const veo = findModel("google/veo-3.1")!;
  const gemini = veo.routes.find((r) => r.provider === "gemini")!;
  assert.equal(
    defaulted.candidates[0].price_cents,
    priceOn(gemini, {
      prompt: "a fox",
      duration: 8,
      resolution: "1080p",
      aspectRatio: "16:9",
      audio: true,
    }, MARGIN),
  );
});

Deno.test("routing: resolution x duration limits of a route (Gemini 1080p is 8 s only; Wan text 480p)", () => {
  const p = plan({ model: "google/veo-3.1", resolution: "1080p", duration: 4 }, ["gemini", "fal"]);
  assert.deepEqual(p.candidates.map((c) => c.provider), ["fal"]);
  refused({ model: "google/veo-3.1", resolution: "1080p", duration: 4 }, ["gemini"], "duration");
  refused({ model: "alibaba/wan-2.5", resolution: "480p" }, ["fal"], "resolution");
  assert.equal(
    plan({ model: "alibaba/wan-2.5", resolution: "480p", image_url }, ["fal"])
      .candidates.length,
    1,
  );
});

Deno.test("routing: a deprecated route runs only when no other one can; a sunset route never", () => {
  const m = testModel("t/dep", "fal", 5);
  m.routes.push({ ...m.routes[0], provider: "replicate", listPrice: undefined });
  m.routes[0] = {
    ...m.routes[0],
    status: "deprecated",
    listPrice: { unit: "video", cents: { "360p": 1, "720p": 1 } },
  };
  m.routes[1] = { ...m.routes[1], listPrice: { unit: "video", cents: { "360p": 9, "720p": 9 } } };
  const providers = (ps: ProviderId[]) =>
    plan({ model: "t/dep" }, ps, [m]).candidates.map((c) => c.provider);
  // Cheaper, but deprecated: the working other route comes first, the deprecated one after.
  assert.deepEqual(providers(["fal", "replicate"]), ["replicate", "fal"]);
  assert.deepEqual(providers(["fal"]), ["fal"]);
  m.routes[0] = { ...m.routes[0], sunset: "2026-09-01" };
  assert.deepEqual(providers(["fal", "replicate"]), ["replicate"]);
  assert.throws(() => providers(["fal"]), BadRequest);
});

Deno.test("catalog: every real route says its status and modes; each model offers only what some route honours", () => {
  for (const m of MODELS) {
    const c = m.capabilities;
    const modes: RouteMode[] = [];
    for (const r of m.routes) {
      assert.ok(r.status, `${m.slug} ${r.provider}: no status`);
      assert.ok(r.modes && (r.modes.text || r.modes.image), `${m.slug} ${r.provider}: no modes`);
      if (r.sunset) assert.match(r.sunset, /^\d{4}-\d{2}-\d{2}$/);
      if (r.modes.text) modes.push(r.modes.text);
      if (r.modes.image) {
        assert.ok(c.imageInput, `${m.slug}: a route takes images the model does not`);
        modes.push(r.modes.image);
      }
      if (c.imageRequired) assert.ok(!r.modes.text, `${m.slug}: text mode on an image-only model`);
    }
    const some = (f: (x: RouteMode) => boolean) => modes.some(f);
    for (const d of c.durations) assert.ok(some((x) => x.durations.includes(d)), `${m.slug} ${d}s`);
    for (const res of c.resolutions) {
      assert.ok(some((x) => x.resolutions.includes(res)), `${m.slug} ${res}`);
    }
    for (const a of c.aspectRatios) {
      assert.ok(some((x) => x.aspectRatios.includes(a)), `${m.slug} ${a}`);
    }
    assert.equal(c.seed, some((x) => x.seed), `${m.slug} seed`);
    assert.equal(c.negativePrompt, some((x) => x.negativePrompt), `${m.slug} negative prompt`);
    assert.equal(c.audio, some((x) => x.audio !== "none"), `${m.slug} audio`);
    assert.equal(c.imageInput, m.routes.some((r) => r.modes?.image), `${m.slug} image`);
  }
  const retired = findModel("google/veo-3.1")!.routes[0];
  assert.deepEqual([retired.provider, retired.status, retired.sunset], [
    "gemini",
    "deprecated",
    "2026-10-22",
  ]);
});

Deno.test("routing: from their sunset on, the Gemini Veo routes are not offered; fal serves Veo", () => {
  const adapters = {
    gemini: scriptedAdapter("gemini", {}).adapter,
    fal: scriptedAdapter("fal", {}).adapter,
  };
  const deps = testDeps(kv, "/unused", { adapters, now: () => Date.UTC(2026, 9, 22) });
  for (const model of ["google/veo-3.1", "google/veo-3.1-fast"]) {
    const p = planCandidates(deps, parseGenerationBody({ prompt: "a fox", model }));
    assert.deepEqual(p.candidates.map((c) => c.provider), ["fal"], model);
    assert.throws(
      () =>
        planCandidates(deps, parseGenerationBody({ prompt: "a fox", model, provider: "gemini" })),
      BadRequest,
    );
  }
});
