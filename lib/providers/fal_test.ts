import assert from "node:assert/strict";
import { falEndpoint, falInput, falProvider } from "./fal.ts";
import { findModel, priceOn } from "../catalog/mod.ts";
import { fixture, replay } from "../../tests/support/replay.ts";
import { ProviderError, type VideoRequest } from "./types.ts";

const KEY = "fal-key-id:fal-key-secret-0123456789";
const ENDPOINT = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video";
const REQ_PATH = "/fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b";
const f = await fixture<Record<string, unknown>>("fal");
const req: VideoRequest = {
  prompt: "a red fox running through snow",
  duration: 5,
  resolution: "1080p",
  aspectRatio: "16:9",
  negativePrompt: "blur",
};
const env = (url: string) => ({ FAL_KEY: KEY, FAL_QUEUE_URL: url });

Deno.test("fal: queues, polls IN_QUEUE and IN_PROGRESS, then reads the result", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.inQueue },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.inProgress },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.completed },
    { method: "GET", path: REQ_PATH, json: f.result },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  assert.deepEqual(await falProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await falProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await falProvider.poll(jobId, deps), {
    status: "succeeded",
    output: { url: "https://v3.fal.media/files/penguin/9Qm1b2c3_output.mp4" },
  });
  s.assertDone();
  assert.ok(s.requests.every((r) => r.headers.get("authorization") === `Key ${KEY}`));
  assert.deepEqual(s.requests[0].json, {
    prompt: "a red fox running through snow",
    duration: "5",
    aspect_ratio: "16:9",
    negative_prompt: "blur",
  });
});

Deno.test("fal: an image switches to the image-to-video endpoint and sends image_url", async () => {
  await using s = replay([
    { method: "POST", path: "/fal-ai/veo3.1/fast/image-to-video", json: f.submitted },
  ]);
  const image = { url: "https://example.com/first.png" };
  await falProvider.submit(
    "fal-ai/veo3.1/fast",
    { ...req, duration: 8, image, audio: false },
    s.deps(env(s.url)),
  );
  s.assertDone();
  assert.deepEqual(s.requests[0].json, {
    prompt: "a red fox running through snow",
    duration: "8s",
    aspect_ratio: "16:9",
    resolution: "1080p",
    generate_audio: false,
    negative_prompt: "blur",
    auto_fix: false,
    image_url: "https://example.com/first.png",
  });
  assert.equal(
    falEndpoint("fal-ai/minimax/hailuo-02/standard/text-to-video", true),
    "fal-ai/minimax/hailuo-02/standard/image-to-video",
  );
});

Deno.test("fal: COMPLETED then a content-policy error on the result is a retryable failure", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.completed },
    {
      method: "GET",
      path: REQ_PATH,
      status: 422,
      headers: { "x-fal-retryable": "false" },
      json: f.moderated,
    },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  const r = await falProvider.poll(jobId, deps);
  assert.equal(r.status, "failed");
  assert.ok(r.status === "failed" && r.retryable);
  assert.match(
    r.status === "failed" ? r.message : "",
    /prompt: The content could not be processed/,
  );
  s.assertDone();
});

Deno.test("fal: COMPLETED then a validation error on the result is a final failure", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.completed },
    { method: "GET", path: REQ_PATH, status: 422, json: f.invalid },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  const r = await falProvider.poll(jobId, deps);
  assert.deepEqual(r, {
    status: "failed",
    message: "fal.ai answered 422 while fetching the result: duration: Input should be '5' or '10'",
    retryable: false,
  });
});

Deno.test("fal: an expired result URL (404) is a final failure that says so", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.completed },
    { method: "GET", path: REQ_PATH, status: 404, json: f.notFound },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  const r = await falProvider.poll(jobId, deps);
  assert.ok(r.status === "failed" && !r.retryable);
  assert.match(r.status === "failed" ? r.message : "", /404.*Request not found.*expired/);
});

Deno.test("fal: 429 on submit is retryable with Retry-After, and nothing else is sent", async () => {
  await using s = replay([
    {
      method: "POST",
      path: `/${ENDPOINT}`,
      status: 429,
      headers: { "retry-after": "3" },
      json: f.rateLimited,
    },
  ]);
  const err = await falProvider.submit(ENDPOINT, req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 429);
  assert.equal(err.retryAfterMs, 3000);
  assert.match(err.message, /Too many concurrent requests/);
  s.assertDone();
});

Deno.test("fal: a 502 on the status call is retryable and the next poll recovers", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "GET", path: `${REQ_PATH}/status`, status: 502, json: f.unavailable },
    { method: "GET", path: `${REQ_PATH}/status`, json: f.inProgress },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  const err = await falProvider.poll(jobId, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 502);
  assert.deepEqual(await falProvider.poll(jobId, deps), { status: "running" });
  s.assertDone();
});

Deno.test("fal: 401 is not retryable and the key is not in the message", async () => {
  await using s = replay([
    {
      method: "POST",
      path: `/${ENDPOINT}`,
      status: 401,
      json: { detail: `Invalid key: ${KEY}` },
    },
  ]);
  const err = await falProvider.submit(ENDPOINT, req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 401);
  assert.ok(!err.message.includes(KEY));
});

Deno.test("fal: cancel PUTs the cancel_url; an already completed job is not an error", async () => {
  await using s = replay([
    { method: "POST", path: `/${ENDPOINT}`, json: f.submitted },
    { method: "PUT", path: `${REQ_PATH}/cancel`, status: 202, json: f.cancelled },
    { method: "PUT", path: `${REQ_PATH}/cancel`, status: 400, json: f.alreadyCompleted },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await falProvider.submit(ENDPOINT, req, deps);
  await falProvider.cancel!(jobId, deps);
  await falProvider.cancel!(jobId, deps);
  s.assertDone();
  assert.equal(s.requests[1].headers.get("authorization"), `Key ${KEY}`);
});

Deno.test("fal: a job whose URLs point elsewhere never receives the key", async () => {
  await using s = replay([]);
  const jobId = JSON.stringify({
    id: "x",
    status: "https://evil.example/status",
    response: "https://evil.example/r",
    cancel: "https://evil.example/c",
  });
  await assert.rejects(
    falProvider.poll(jobId, s.deps(env(s.url))),
    (e: unknown) => e instanceof ProviderError && !e.retryable,
  );
  s.assertDone();
});

Deno.test("fal: Kling 3.0 Pro image-to-video sends start_image_url, not image_url", async () => {
  await using s = replay([
    { method: "POST", path: "/fal-ai/kling-video/v3/pro/image-to-video", json: f.submitted },
  ]);
  const image = { url: "https://example.com/first.png" };
  await falProvider.submit(
    "fal-ai/kling-video/v3/pro/text-to-video",
    { ...req, image, audio: true },
    s.deps(env(s.url)),
  );
  s.assertDone();
  assert.deepEqual(s.requests[0].json, {
    prompt: "a red fox running through snow",
    duration: "5",
    generate_audio: true,
    negative_prompt: "blur",
    start_image_url: "https://example.com/first.png",
  });
});

Deno.test("fal: Veo's generate_audio is what the price says, whether or not the request said audio", () => {
  for (const slug of ["google/veo-3.1", "google/veo-3.1-fast"]) {
    const route = findModel(slug)!.routes.find((r) => r.provider === "fal")!;
    for (const audio of [undefined, false, true]) {
      const r: VideoRequest = { ...req, duration: 8, resolution: "720p", audio };
      const sent = falInput(route.upstreamModel, r).generate_audio;
      const pricedWithAudio = priceOn(route, r, 1) === priceOn(route, { ...r, audio: true }, 1);
      assert.equal(sent, pricedWithAudio, `${slug} audio=${audio}`);
      assert.equal(sent, audio === true, `${slug} audio=${audio}`);
    }
  }
});

Deno.test("fal: aspect_ratio and resolution go only to endpoints whose input has them", () => {
  const image = { url: "https://example.com/first.png" };
  const keys = (endpoint: string, r: VideoRequest) => Object.keys(falInput(endpoint, r)).sort();
  assert.deepEqual(keys("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", { ...req, image }), [
    "duration",
    "image_url",
    "negative_prompt",
    "prompt",
  ]);
  assert.deepEqual(
    keys("fal-ai/minimax/hailuo-02/standard/text-to-video", { ...req, duration: 6 }),
    ["duration", "prompt", "prompt_optimizer"],
  );
  assert.deepEqual(
    keys("fal-ai/wan-25-preview/image-to-video", { ...req, image, seed: 3 }),
    [
      "duration",
      "enable_prompt_expansion",
      "image_url",
      "negative_prompt",
      "prompt",
      "resolution",
      "seed",
    ],
  );
});

Deno.test("fal: image-to-video follows the image ('auto') unless the caller chose an aspect ratio", () => {
  const image = { url: "https://example.com/portrait.png" };
  // The SDK's default on these endpoints is "auto"; on their text twins it is "16:9".
  for (const endpoint of ["fal-ai/veo3.1/image-to-video", "fal-ai/veo3.1/fast/image-to-video"]) {
    const r = { ...req, duration: 8, image };
    assert.equal(falInput(endpoint, { ...r, aspectRatioDefault: true }).aspect_ratio, "auto");
    assert.equal(falInput(endpoint, { ...r, aspectRatio: "9:16" }).aspect_ratio, "9:16");
  }
  const seedance = "fal-ai/bytedance/seedance/v1/pro/image-to-video";
  assert.equal(
    falInput(seedance, { ...req, image, aspectRatioDefault: true }).aspect_ratio,
    "auto",
  );
  assert.equal(falInput(seedance, { ...req, image, aspectRatio: "1:1" }).aspect_ratio, "1:1");
  // Text-to-video has no image to follow: the model's default is sent as before.
  assert.equal(
    falInput("fal-ai/veo3.1", { ...req, duration: 8, aspectRatioDefault: true }).aspect_ratio,
    "16:9",
  );
});

Deno.test("fal: prompt rewriting is off unless enhance_prompt, on every endpoint that has a switch", () => {
  const image = { url: "https://example.com/first.png" };
  const cases: [string, string, VideoRequest][] = [
    ["fal-ai/veo3.1", "auto_fix", { ...req, duration: 8 }],
    ["fal-ai/veo3.1/fast/image-to-video", "auto_fix", { ...req, duration: 8, image }],
    ["fal-ai/wan-25-preview/text-to-video", "enable_prompt_expansion", req],
    ["fal-ai/wan-25-preview/image-to-video", "enable_prompt_expansion", { ...req, image }],
    ["fal-ai/minimax/hailuo-02/standard/text-to-video", "prompt_optimizer", {
      ...req,
      duration: 6,
    }],
    ["fal-ai/minimax/hailuo-02/standard/image-to-video", "prompt_optimizer", { ...req, image }],
  ];
  for (const [endpoint, field, r] of cases) {
    // Upstream defaults are true: false must be sent, not left out.
    assert.equal(falInput(endpoint, r)[field], false, `${endpoint} default`);
    assert.equal(falInput(endpoint, { ...r, enhancePrompt: true })[field], true, endpoint);
  }
  // Kling and Seedance have no such switch: nothing is added.
  for (
    const endpoint of [
      "fal-ai/kling-video/v3/pro/text-to-video",
      "fal-ai/bytedance/seedance/v1/pro/text-to-video",
    ]
  ) {
    const sent = Object.keys(falInput(endpoint, { ...req, enhancePrompt: true }));
    assert.ok(!sent.some((k) => /auto_fix|expansion|optimizer/.test(k)), endpoint);
  }
});
