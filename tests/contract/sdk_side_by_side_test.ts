/**
 * Side by side: our adapter and the provider's official SDK, pointed at the same loopback
 * recorder (base URL option or custom fetch), make the same request for the same input:
 * method, path, auth header and body (SDK telemetry headers aside). Every catalog case of each
 * provider is compared, then poll and cancel.
 */
import assert from "node:assert/strict";
import { createFalClient, fal as _unused } from "@fal-ai/client";
import RunwayML from "@runwayml/sdk";
import LumaAI from "lumaai";
import Replicate from "replicate";
import { GoogleGenAI } from "@google/genai";
import { falProvider } from "../../lib/providers/fal.ts";
import { geminiProvider } from "../../lib/providers/gemini.ts";
import { lumaProvider } from "../../lib/providers/luma.ts";
import { replicateProvider } from "../../lib/providers/replicate.ts";
import { runwayProvider } from "../../lib/providers/runway.ts";
import { type ProviderDeps, ProviderError } from "../../lib/providers/types.ts";
import { toBase64 } from "../../lib/providers/upstream.ts";
import { catalogCases } from "../support/contract_cases.ts";
import { type Captured, essentials, recorder, redirectTo } from "./recorder.ts";

const deps = (env: ProviderDeps["env"]): ProviderDeps => ({ fetch, env, workDir: "/nonexistent" });

Deno.test("side by side: Luma create, get and delete match the lumaai SDK", async () => {
  const ID = "4f2b6c1e-8a3d-4e7b-9c10-2d5e6f7a8b9c";
  await using rec = recorder(
    (r) =>
      r.method === "DELETE"
        ? null
        : { id: ID, state: "queued", created_at: "2026-11-29T00:00:00Z" },
  );
  const KEY = "luma-key-0123456789";
  const base = `${rec.url}/dream-machine/v1`;
  const sdk = new LumaAI({ authToken: KEY, baseURL: base, maxRetries: 0 });
  const d = deps({ LUMAAI_API_KEY: KEY, LUMAAI_BASE_URL: base });
  const cases = catalogCases("luma");
  assert.ok(cases.length > 50);
  for (const c of cases) {
    await lumaProvider.submit(c.route.upstreamModel, c.req, d);
    const [ours] = rec.take();
    // deno-lint-ignore no-explicit-any
    await sdk.generations.video.create(ours.body as any);
    const [theirs] = rec.take();
    assert.deepEqual(
      essentials(ours, "authorization"),
      essentials(theirs, "authorization"),
      c.name,
    );
  }
  await lumaProvider.poll(ID, d);
  await sdk.generations.get(ID);
  await lumaProvider.cancel!(ID, d);
  await sdk.generations.delete(ID);
  const [poll, sdkPoll, del, sdkDel] = rec.take();
  assert.deepEqual(essentials(poll, "authorization"), essentials(sdkPoll, "authorization"));
  assert.deepEqual(essentials(del, "authorization"), essentials(sdkDel, "authorization"));
});

Deno.test("side by side: Runway image_to_video, text_to_video, task retrieve and delete match @runwayml/sdk", async () => {
  const ID = "17f20503-6c24-4c16-946b-35dbbce2af2f";
  await using rec = recorder((r) =>
    r.method === "DELETE" ? null : { id: ID, status: "PENDING", createdAt: "2026-11-29T00:00:00Z" }
  );
  const KEY = "key_runway0123456789";
  const sdk = new RunwayML({ apiKey: KEY, baseURL: rec.url, maxRetries: 0 });
  const d = deps({ RUNWAYML_API_SECRET: KEY, RUNWAYML_BASE_URL: rec.url });
  const cases = catalogCases("runway");
  assert.ok(cases.length > 50);
  for (const c of cases) {
    await runwayProvider.submit(c.route.upstreamModel, c.req, d);
    const [ours] = rec.take();
    // gen4.5 also takes a prompt alone: the SDK's textToVideo then.
    const create = c.req.image ? sdk.imageToVideo : sdk.textToVideo;
    // deno-lint-ignore no-explicit-any
    await create.create(ours.body as any);
    const [theirs] = rec.take();
    assert.deepEqual(
      essentials(ours, "authorization"),
      essentials(theirs, "authorization"),
      c.name,
    );
    assert.equal(ours.headers.get("x-runway-version"), theirs.headers.get("x-runway-version"));
    // deno-lint-ignore no-explicit-any
    if (c.req.image) assert.match((ours.body as any).promptImage, /^data:image\/png;base64,/);
  }
  await runwayProvider.poll(ID, d);
  await sdk.tasks.retrieve(ID);
  await runwayProvider.cancel!(ID, d);
  await sdk.tasks.delete(ID);
  const [poll, sdkPoll, del, sdkDel] = rec.take();
  assert.deepEqual(essentials(poll, "authorization"), essentials(sdkPoll, "authorization"));
  assert.deepEqual(essentials(del, "authorization"), essentials(sdkDel, "authorization"));
});

Deno.test("side by side: Replicate model predictions, get and cancel match the replicate SDK", async () => {
  const ID = "q2w3e4r5t6y7u8i9o0p";
  const prediction = (r: Captured) => ({
    id: ID,
    status: r.path.endsWith("/cancel") ? "canceled" : "starting",
    urls: { get: `${r.path}`, cancel: `${r.path}/cancel` },
  });
  await using rec = recorder(prediction);
  const KEY = "r8_replicate0123456789";
  // The SDK's baseUrl includes /v1; REPLICATE_BASE_URL is the origin (we add /v1).
  const sdk = new Replicate({ auth: KEY, baseUrl: `${rec.url}/v1`, fetch });
  const d = deps({ REPLICATE_API_TOKEN: KEY, REPLICATE_BASE_URL: rec.url });
  const cases = catalogCases("replicate");
  assert.ok(cases.length > 10);
  for (const c of cases) {
    await replicateProvider.submit(c.route.upstreamModel, c.req, d);
    const [ours] = rec.take();
    await sdk.predictions.create({
      model: c.route.upstreamModel,
      input: (ours.body as { input: object }).input,
    });
    const [theirs] = rec.take();
    assert.deepEqual(
      essentials(ours, "authorization"),
      essentials(theirs, "authorization"),
      c.name,
    );
  }
  await replicateProvider.poll(ID, d).catch(() => {});
  await sdk.predictions.get(ID);
  await replicateProvider.cancel!(ID, d);
  await sdk.predictions.cancel(ID);
  const [poll, sdkPoll, cancel, sdkCancel] = rec.take();
  assert.deepEqual(essentials(poll, "authorization"), essentials(sdkPoll, "authorization"));
  assert.deepEqual(
    { ...essentials(cancel, "authorization"), body: undefined },
    { ...essentials(sdkCancel, "authorization"), body: undefined },
  );
});

Deno.test("side by side: fal queue submit matches @fal-ai/client for every fal case", async () => {
  await using rec = recorder((r) => ({
    request_id: "764cabcf-b745-4b3e-ae38-1200304cf45b",
    status: "IN_QUEUE",
    status_url: `${rec.url}/fal-ai/x/requests/764cabcf-b745-4b3e-ae38-1200304cf45b/status`,
    response_url: `${rec.url}/fal-ai/x/requests/764cabcf-b745-4b3e-ae38-1200304cf45b`,
    cancel_url: `${rec.url}/fal-ai/x/requests/764cabcf-b745-4b3e-ae38-1200304cf45b/cancel`,
    path: r.path,
  }));
  const KEY = "fal-key-id:fal-key-secret";
  const sdk = createFalClient({ credentials: KEY, fetch: redirectTo(rec.url) });
  const d = deps({ FAL_KEY: KEY, FAL_QUEUE_URL: rec.url });
  const cases = catalogCases("fal");
  assert.ok(cases.length > 300);
  for (const c of cases) {
    await falProvider.submit(c.route.upstreamModel, c.req, d);
    const [ours] = rec.take();
    const endpoint = ours.path.slice(1);
    // deno-lint-ignore no-explicit-any
    await sdk.queue.submit(endpoint, { input: ours.body as any });
    const [theirs] = rec.take();
    assert.deepEqual(
      essentials(ours, "authorization"),
      essentials(theirs, "authorization"),
      c.name,
    );
  }
});

Deno.test("side by side: Gemini predictLongRunning body matches @google/genai 2.x in Developer API mode", async () => {
  const OP = "models/veo-3.1-generate-preview/operations/2b9k4f7qzx1m";
  await using rec = recorder(() => ({ name: OP }));
  const KEY = "AIzaGeminiKey0123456789";
  const sdk = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: rec.url } });
  const d = deps({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: rec.url });
  const cases = catalogCases("gemini");
  assert.ok(cases.length > 20);
  for (const c of cases) {
    const r = c.req;
    await geminiProvider.submit(c.route.upstreamModel, r, d);
    const [ours] = rec.take();
    // The same request in the SDK's own terms (its converter builds the wire body).
    await sdk.models.generateVideos({
      model: c.route.upstreamModel,
      source: {
        prompt: r.prompt,
        ...(r.image
          ? { image: { imageBytes: toBase64(r.image.bytes!), mimeType: r.image.mimeType } }
          : {}),
      },
      config: {
        aspectRatio: r.aspectRatio,
        durationSeconds: r.duration,
        resolution: r.resolution,
        ...(r.negativePrompt ? { negativePrompt: r.negativePrompt } : {}),
      },
    });
    const [theirs] = rec.take();
    assert.deepEqual(
      essentials(ours, "x-goog-api-key"),
      essentials(theirs, "x-goog-api-key"),
      c.name,
    );
  }
  // A seed: the SDK refuses it in this mode, and so do we (the catalog never routes one here).
  const seeded = { ...cases[0].req, seed: 7 };
  await assert.rejects(
    sdk.models.generateVideos({
      model: "veo-3.1-generate-preview",
      source: { prompt: "p" },
      config: { seed: 7 },
    }),
    /seed parameter is only supported/,
  );
  await assert.rejects(geminiProvider.submit("veo-3.1-generate-preview", seeded, d), ProviderError);
  // Nor does the Developer API take generateAudio: audio is always on for this route.
  await assert.rejects(
    sdk.models.generateVideos({
      model: "veo-3.1-generate-preview",
      source: { prompt: "p" },
      config: { generateAudio: false },
    }),
    /generateAudio parameter is only supported/,
  );
  assert.equal(rec.requests.length, 0);
});
