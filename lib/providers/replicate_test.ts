import assert from "node:assert/strict";
import { replicateBase, replicateInput, replicateProvider } from "./replicate.ts";
import { fixture, replay } from "../../tests/support/replay.ts";
import { ProviderError, type VideoRequest } from "./types.ts";

const TOKEN = "r8_TestReplicateToken0123456789";
const ID = "gm3qorzdhgbfurvjtvhg6dckhu";
const MODEL = "kwaivgi/kling-v2.5-turbo-pro";
const f = await fixture<Record<string, unknown>>("replicate");
const req: VideoRequest = {
  prompt: "a red fox running through snow",
  duration: 5,
  resolution: "1080p",
  aspectRatio: "16:9",
  seed: 42,
};
const env = (url: string) => ({ REPLICATE_API_TOKEN: TOKEN, REPLICATE_BASE_URL: url });

Deno.test("replicate: creates a prediction, polls starting/processing, returns the output URL", async () => {
  await using s = replay([
    { method: "POST", path: `/v1/models/${MODEL}/predictions`, status: 201, json: f.starting },
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.starting },
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.processing },
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.succeeded },
  ]);
  const deps = s.deps(env(s.url));
  const image = { url: "https://example.com/first.jpg" };
  const { jobId } = await replicateProvider.submit(MODEL, { ...req, image }, deps);
  assert.equal(jobId, ID);
  assert.deepEqual(await replicateProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await replicateProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await replicateProvider.poll(jobId, deps), {
    status: "succeeded",
    output: { url: "https://replicate.delivery/xezq/abc123/tmpk2y8f1.mp4" },
    // metrics.predict_time is kept for cost reconciliation.
    reported: { predictTimeSeconds: 84.2 },
  });
  s.assertDone();
  assert.ok(s.requests.every((r) => r.headers.get("authorization") === `Bearer ${TOKEN}`));
  assert.deepEqual(s.requests[0].json, {
    input: {
      prompt: "a red fox running through snow",
      duration: 5,
      seed: 42,
      start_image: "https://example.com/first.jpg",
    },
  });
});

Deno.test("replicate: model families get their own image field and resolution", async () => {
  await using s = replay([
    {
      method: "POST",
      path: "/v1/models/minimax/hailuo-02/predictions",
      status: 201,
      json: f.starting,
    },
  ]);
  const image = { url: "https://example.com/first.jpg" };
  await replicateProvider.submit(
    "minimax/hailuo-02",
    { ...req, duration: 6, resolution: "768p", image },
    s.deps(env(s.url)),
  );
  const input = (s.requests[0].json as { input: Record<string, unknown> }).input;
  assert.equal(input.first_frame_image, "https://example.com/first.jpg");
  assert.equal(input.resolution, "768p");
  assert.equal(input.duration, 6);
  // Hailuo's schema has no aspect_ratio: it is not sent (the catalog refuses an explicit one).
  assert.ok(!("aspect_ratio" in input));
  assert.ok(!("aspect_ratio" in replicateInput("minimax/hailuo-02", { ...req, duration: 6 })));
  // prompt_optimizer defaults to true in Hailuo's schema: sent false unless enhance_prompt.
  assert.equal(input.prompt_optimizer, false);
  const enhanced = replicateInput("minimax/hailuo-02", {
    ...req,
    duration: 6,
    enhancePrompt: true,
  });
  assert.equal(enhanced.prompt_optimizer, true);
  assert.ok(!("prompt_optimizer" in replicateInput("kwaivgi/kling-v2.5-turbo-pro", req)));
});

Deno.test("replicate: a flagged output (E005) is a retryable failure with Replicate's words", async () => {
  await using s = replay([{ method: "GET", path: `/v1/predictions/${ID}`, json: f.flagged }]);
  const r = await replicateProvider.poll(ID, s.deps(env(s.url)));
  assert.ok(r.status === "failed" && r.retryable);
  assert.match(r.status === "failed" ? r.message : "", /flagged as sensitive.*E005/);
});

Deno.test("replicate: 422 invalid input on create is not retryable and names the field", async () => {
  await using s = replay([
    { method: "POST", path: `/v1/models/${MODEL}/predictions`, status: 422, json: f.invalidInput },
  ]);
  const err = await replicateProvider.submit(MODEL, { ...req, duration: 7 }, s.deps(env(s.url)))
    .then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 422);
  assert.match(err.message, /input\.duration: duration must be one of the following: 5, 10/);
});

Deno.test("replicate: 429 throttling carries Retry-After", async () => {
  await using s = replay([
    {
      method: "POST",
      path: `/v1/models/${MODEL}/predictions`,
      status: 429,
      headers: { "retry-after": "9" },
      json: f.throttled,
    },
  ]);
  const err = await replicateProvider.submit(MODEL, req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && err.retryable && err.retryAfterMs === 9000);
  assert.match(err.message, /rate limit resets/);
  s.assertDone();
});

Deno.test("replicate: a 500 while polling is retryable, the next poll recovers", async () => {
  await using s = replay([
    { method: "GET", path: `/v1/predictions/${ID}`, status: 500, json: f.serverError },
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.succeeded },
  ]);
  const deps = s.deps(env(s.url));
  const err = await replicateProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 500);
  assert.equal((await replicateProvider.poll(ID, deps)).status, "succeeded");
  s.assertDone();
});

Deno.test("replicate: 401 is final and never echoes the token", async () => {
  await using s = replay([
    {
      method: "GET",
      path: `/v1/predictions/${ID}`,
      status: 401,
      json: { title: "Unauthenticated", detail: `Bad token ${TOKEN}`, status: 401 },
    },
  ]);
  const err = await replicateProvider.poll(ID, s.deps(env(s.url))).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 401);
  assert.ok(!err.message.includes(TOKEN));
});

Deno.test("replicate: cancel POSTs /cancel; a canceled prediction is a final failure", async () => {
  await using s = replay([
    { method: "POST", path: `/v1/predictions/${ID}/cancel`, json: f.canceled },
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.canceled },
  ]);
  const deps = s.deps(env(s.url));
  await replicateProvider.cancel!(ID, deps);
  assert.deepEqual(await replicateProvider.poll(ID, deps), {
    status: "failed",
    message: "The Replicate prediction was cancelled",
    retryable: false,
  });
  s.assertDone();
  assert.equal(s.requests[0].headers.get("authorization"), `Bearer ${TOKEN}`);
});

Deno.test("replicate: a job id that is not a prediction id is refused without a request", async () => {
  await using s = replay([]);
  await assert.rejects(replicateProvider.poll("../v1/account", s.deps(env(s.url))), ProviderError);
  s.assertDone();
});

Deno.test("replicate: REPLICATE_BASE_URL in the SDK's form (ending in /v1) is not doubled", async () => {
  await using s = replay([
    { method: "GET", path: `/v1/predictions/${ID}`, json: f.processing },
  ]);
  const deps = s.deps({ REPLICATE_API_TOKEN: TOKEN, REPLICATE_BASE_URL: `${s.url}/v1/` });
  assert.equal((await replicateProvider.poll(ID, deps)).status, "running");
  s.assertDone();
  assert.equal(
    replicateBase({ REPLICATE_BASE_URL: "https://api.replicate.com/v1" }),
    "https://api.replicate.com",
  );
});

Deno.test("replicate: the orphan search follows next pages on Replicate's origin only", async () => {
  const since = Date.parse("2026-11-29T10:00:00Z");
  const input = replicateInput(MODEL, req);
  const p = (id: string, created_at: string) => ({ id, model: MODEL, input, created_at });
  await using s = replay([
    {
      method: "GET",
      path: "/v1/predictions",
      json: { results: [p("newer1", "2026-11-29T10:00:09Z")], next: "{base}/v1/predictions?c=2" },
    },
    {
      method: "GET",
      path: "/v1/predictions?c=2",
      // A next page elsewhere would be sent our token: not followed.
      json: {
        results: [p("older1", "2026-11-29T10:00:01.123456Z")],
        next: "https://elsewhere.example/v1/predictions?c=3",
      },
    },
  ]);
  const deps = s.deps(env(s.url));
  assert.deepEqual(await replicateProvider.findOrphan!(MODEL, req, since, deps), [
    "older1",
    "newer1",
  ]);
  s.assertDone();
  assert.ok(s.requests.every((r) => r.headers.get("authorization") === `Bearer ${TOKEN}`));
});
