/**
 * Each provider adapter end to end through the HTTP API: the app runs with that provider's key
 * and base URL pointing at a replay server that answers the submit, a couple of in-progress
 * polls, success and the video file itself. The generation must complete with OUR signed URL
 * serving the same bytes, charged the catalog price of that route.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { findModel, priceOn } from "../../lib/catalog/mod.ts";
import { verifyLedger } from "../../lib/db/ledger.ts";
import { ADAPTERS } from "../../lib/providers/registry.ts";
import type { ProviderId } from "../../lib/providers/types.ts";
import { type Exchange, fixture, type Recorded, replay } from "../support/replay.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { makeTinyMp4 } from "../support/video.ts";
import { tinyImage, withGeminiVeoLive } from "../support/generations.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";

type F = Record<string, Record<string, unknown>>;

let videoBytes: Uint8Array | undefined;
/** A real tiny H.264 MP4, made once. */
async function tinyVideo(): Promise<Uint8Array> {
  if (!videoBytes) {
    const dir = await Deno.makeTempDir();
    await makeTinyMp4(`${dir}/v.mp4`);
    videoBytes = await Deno.readFile(`${dir}/v.mp4`);
    await Deno.remove(dir, { recursive: true });
  }
  return videoBytes;
}

/** Providers poll every 5–10 s; the tests swap in the same adapters polling every 20 ms. */
function fastPolls(server: TestServer) {
  const adapters = server.services.generation.adapters;
  for (const id of Object.keys(adapters) as ProviderId[]) {
    if (id !== "local") adapters[id] = { ...adapters[id]!, pollIntervalMs: 20 };
  }
}

/** Polls the API until the generation has ended. */
function untilTerminal(server: TestServer, key: string, id: string) {
  return waitFor(async () => {
    const r = await call(server.url, "GET", `/v1/video/generations/${id}`, { key });
    assert.equal(r.status, 200);
    return ["completed", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
  }, `generation ${id} to end`);
}

interface Case {
  provider: ProviderId;
  env: (base: string) => Record<string, string>;
  model: string;
  /** The request body besides model and prompt; `{base}` is the replay server. */
  body: Record<string, unknown>;
  script: (f: F, video: Uint8Array, image: Uint8Array) => Exchange[];
  /** Checks on what the adapter sent. */
  check?: (sent: Recorded[], image: Uint8Array) => void;
}

const json = (x: unknown) => JSON.parse(JSON.stringify(x));
const mp4 = (video: Uint8Array, path: string): Exchange => ({
  method: "GET",
  path,
  bytes: video,
  headers: { "content-type": "video/mp4" },
});
const png = (image: Uint8Array): Exchange => ({
  method: "GET",
  path: "/in.png",
  bytes: image,
  headers: { "content-type": "image/png" },
});

const GEMINI_OP = "models/veo-3.1-generate-preview/operations/2b9k4f7qzx1m";
const FAL_REQ = "/fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b";

const CASES: Case[] = [
  {
    provider: "gemini",
    env: (base) => ({ GEMINI_API_KEY: "AIzaTestGeminiKey0123456789", GEMINI_BASE_URL: base }),
    model: "google/veo-3.1",
    // Image-to-video: Gemini takes the image only inline, so the worker fetched it first.
    body: { duration: 4, resolution: "720p", audio: true, image_url: "{base}/in.png" },
    script: (f, video, image) => [
      png(image),
      {
        method: "POST",
        path: "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
        json: f.submitted,
      },
      { method: "GET", path: `/v1beta/${GEMINI_OP}`, json: f.running },
      { method: "GET", path: `/v1beta/${GEMINI_OP}`, json: f.running },
      { method: "GET", path: `/v1beta/${GEMINI_OP}`, json: f.done },
      mp4(video, "/v1beta/files/x1y2z3:download?alt=media"),
    ],
    check: (sent, image) => {
      // deno-lint-ignore no-explicit-any
      const instance = (sent[1].json as any).instances[0];
      assert.equal(instance.image.mimeType, "image/png");
      assert.equal(instance.image.bytesBase64Encoded, Buffer.from(image).toString("base64"));
      assert.equal(sent[5].headers.get("x-goog-api-key"), "AIzaTestGeminiKey0123456789");
    },
  },
  {
    provider: "fal",
    env: (base) => ({ FAL_KEY: "fal-key-id:fal-key-secret-0123456789", FAL_QUEUE_URL: base }),
    model: "kwaivgi/kling-v2.5-turbo-pro",
    body: { duration: 5, resolution: "1080p" },
    script: (f, video) => {
      const result = json(f.result);
      result.video.url = "{base}/media/fal.mp4";
      return [
        {
          method: "POST",
          path: "/fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
          json: f.submitted,
        },
        { method: "GET", path: `${FAL_REQ}/status`, json: f.inQueue },
        { method: "GET", path: `${FAL_REQ}/status`, json: f.inProgress },
        { method: "GET", path: `${FAL_REQ}/status`, json: f.completed },
        { method: "GET", path: FAL_REQ, json: result },
        mp4(video, "/media/fal.mp4"),
      ];
    },
  },
  {
    provider: "replicate",
    env: (base) => ({
      REPLICATE_API_TOKEN: "r8_TestReplicateToken0123456789",
      REPLICATE_BASE_URL: base,
    }),
    model: "kwaivgi/kling-v2.5-turbo-pro",
    body: { duration: 10, resolution: "1080p" },
    script: (f, video) => {
      const id = "gm3qorzdhgbfurvjtvhg6dckhu";
      const succeeded = { ...f.succeeded, output: "{base}/media/replicate.mp4" };
      return [
        {
          method: "POST",
          path: "/v1/models/kwaivgi/kling-v2.5-turbo-pro/predictions",
          status: 201,
          json: f.starting,
        },
        { method: "GET", path: `/v1/predictions/${id}`, json: f.starting },
        { method: "GET", path: `/v1/predictions/${id}`, json: f.processing },
        { method: "GET", path: `/v1/predictions/${id}`, json: succeeded },
        mp4(video, "/media/replicate.mp4"),
      ];
    },
  },
  {
    provider: "runway",
    env: (base) => ({
      RUNWAYML_API_SECRET: "key_TestRunwaySecret0123456789abcdef",
      RUNWAYML_BASE_URL: base,
    }),
    model: "runway/gen4-turbo",
    body: { duration: 5, resolution: "720p", image_url: "{base}/in.png" },
    script: (f, video, image) => {
      const id = "17f20503-6c24-4c16-946b-35dbbce2af2f";
      const succeeded = { ...f.succeeded, output: ["{base}/media/runway.mp4"] };
      return [
        png(image),
        { method: "POST", path: "/v1/image_to_video", json: f.created },
        { method: "GET", path: `/v1/tasks/${id}`, json: f.pending },
        { method: "GET", path: `/v1/tasks/${id}`, json: f.running },
        { method: "GET", path: `/v1/tasks/${id}`, json: succeeded },
        mp4(video, "/media/runway.mp4"),
      ];
    },
    check: (sent) => {
      // Runway takes no http URL: the bytes we fetched go inline as a data URI.
      // deno-lint-ignore no-explicit-any
      assert.match((sent[1].json as any).promptImage, /^data:image\/png;base64,iVBORw0KGgo/);
    },
  },
  {
    provider: "luma",
    env: (base) => ({
      LUMAAI_API_KEY: "luma-TestLumaKey0123456789abcdef",
      LUMAAI_BASE_URL: `${base}/dream-machine/v1`,
    }),
    model: "luma/ray-2",
    body: { duration: 5, resolution: "720p" },
    script: (f, video) => {
      const path = "/dream-machine/v1/generations";
      const id = "4f2b6c1e-8a3d-4e7b-9c10-2d5e6f7a8b9c";
      const completed = json(f.completed);
      completed.assets.video = "{base}/media/luma.mp4";
      return [
        { method: "POST", path: `${path}/video`, status: 201, json: f.queued },
        { method: "GET", path: `${path}/${id}`, json: f.queued },
        { method: "GET", path: `${path}/${id}`, json: f.dreaming },
        { method: "GET", path: `${path}/${id}`, json: completed },
        mp4(video, "/media/luma.mp4"),
      ];
    },
  },
];

/** The catalog price of `model` on `provider` for these options. */
function catalogPrice(server: TestServer, model: string, provider: ProviderId, body: Case["body"]) {
  const route = findModel(model)!.routes.find((r) => r.provider === provider)!;
  return priceOn(route, {
    prompt: "",
    duration: body.duration as number,
    resolution: body.resolution as string,
    aspectRatio: "16:9",
    audio: body.audio as boolean | undefined,
  }, server.services.config.PRICE_MARGIN);
}

for (const c of CASES) {
  Deno.test(`${c.provider} end to end over HTTP: completed, our signed URL, same bytes, catalog price`, async () => {
    const [f, video, image] = await Promise.all([
      fixture<F>(c.provider),
      tinyVideo(),
      tinyImage("png"),
    ]);
    await using s = replay(c.script(f, video, image));
    // The test polls the API quickly; the per-key rate limit is not what it is about.
    const env = { RATE_LIMIT_PER_MINUTE: "100000", ...c.env(s.url) };
    const server = await startTestServer(env, {}, { background: true });
    try {
      assert.ok(ADAPTERS[c.provider].isConfigured(server.services.config));
      fastPolls(server);
      // Google retired the Gemini API Veo routes (2026-10-22): the adapter is driven as before.
      if (c.provider === "gemini") server.services.generation.models = withGeminiVeoLive();
      const org = await fundedOrg(server.services, 10_000);
      const body = JSON.parse(JSON.stringify(c.body).replaceAll("{base}", s.url));
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key: org.key,
        body: { model: c.model, prompt: "a red fox running through snow", ...body },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const g = await untilTerminal(server, org.key, created.body.id);
      assert.equal(g.status, "completed", g.error_message);
      assert.equal(g.model, c.model);

      const out = new URL(g.output_url);
      assert.equal(out.origin, new URL(server.services.config.publicUrl).origin);
      assert.equal(out.pathname, `/files/videos/${g.id}.mp4`);
      assert.ok(out.searchParams.get("sig"));
      const file = await fetch(server.url + out.pathname + out.search);
      assert.equal(file.status, 200);
      assert.deepEqual(new Uint8Array(await file.arrayBuffer()), video);

      const price = catalogPrice(server, c.model, c.provider, body);
      assert.ok(price > 0);
      assert.equal(g.cost_cents, price);
      const usage = await call(server.url, "GET", "/v1/usage", { key: org.key });
      assert.equal(usage.body.credit_balance, 10_000 - price);
      assert.ok((await verifyLedger(server.services.kv, org.orgId)).ok);
      s.assertDone();
      c.check?.(s.requests, image);
    } finally {
      await server.close();
    }
  });
}
