import assert from "node:assert/strict";
import { geminiProvider } from "./gemini.ts";
import { findModel, routeRefusal } from "../catalog/mod.ts";
import { fixture, replay, TEST_NOW } from "../../tests/support/replay.ts";
import { ProviderError, type VideoRequest } from "./types.ts";

const KEY = "AIzaTestGeminiKey0123456789";
const OP = "models/veo-3.1-generate-preview/operations/2b9k4f7qzx1m";
const f = await fixture<Record<string, unknown>>("gemini");
const req: VideoRequest = {
  prompt: "a red fox running through snow",
  duration: 8,
  resolution: "1080p",
  aspectRatio: "16:9",
  negativePrompt: "blurry",
};
const env = (url: string) => ({ GEMINI_API_KEY: KEY, GEMINI_BASE_URL: url });

Deno.test("gemini: submits, polls through running, returns the video URI with the key header", async () => {
  await using s = replay([
    {
      method: "POST",
      path: "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
      json: f.submitted,
    },
    { method: "GET", path: `/v1beta/${OP}`, json: f.running },
    { method: "GET", path: `/v1beta/${OP}`, json: f.running },
    { method: "GET", path: `/v1beta/${OP}`, json: f.done },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await geminiProvider.submit("veo-3.1-generate-preview", req, deps);
  assert.equal(jobId, OP);
  assert.deepEqual(await geminiProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await geminiProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await geminiProvider.poll(jobId, deps), {
    status: "succeeded",
    output: {
      url: `${s.url}/v1beta/files/x1y2z3:download?alt=media`,
      headers: { "x-goog-api-key": KEY },
    },
  });
  s.assertDone();
  const sent = s.requests[0];
  assert.equal(sent.headers.get("x-goog-api-key"), KEY);
  assert.deepEqual(sent.json, {
    instances: [{ prompt: "a red fox running through snow" }],
    parameters: {
      aspectRatio: "16:9",
      durationSeconds: 8,
      resolution: "1080p",
      negativePrompt: "blurry",
    },
  });
  assert.ok(s.requests.every((r) => r.headers.get("x-goog-api-key") === KEY));
});

Deno.test("gemini: image bytes go inline as base64 with their mime type", async () => {
  await using s = replay([
    {
      method: "POST",
      path: "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning",
      json: f.submitted,
    },
  ]);
  const image = {
    url: "https://example.com/a.png",
    bytes: new Uint8Array([1, 2, 3, 250]),
    mimeType: "image/png",
  };
  await geminiProvider.submit(
    "veo-3.1-fast-generate-preview",
    { ...req, image },
    s.deps(env(s.url)),
  );
  s.assertDone();
  const body = s.requests[0].json as { instances: { image: unknown }[] };
  assert.deepEqual(body.instances[0].image, {
    bytesBase64Encoded: "AQID+g==",
    mimeType: "image/png",
  });
});

Deno.test("gemini: an image without bytes is refused before any paid call", async () => {
  await using s = replay([]);
  const image = { url: "https://example.com/a.png" };
  await assert.rejects(
    geminiProvider.submit("veo-3.1-generate-preview", { ...req, image }, s.deps(env(s.url))),
    (e: unknown) => e instanceof ProviderError && !e.retryable,
  );
  s.assertDone();
});

Deno.test("gemini: safety-filtered result is a retryable failure with Google's reason", async () => {
  await using s = replay([{ method: "GET", path: `/v1beta/${OP}`, json: f.filtered }]);
  const r = await geminiProvider.poll(OP, s.deps(env(s.url)));
  assert.equal(r.status, "failed");
  assert.ok(r.status === "failed" && r.retryable);
  assert.match((r as { message: string }).message, /safety filters.*issue with the audio/);
  s.assertDone();
});

Deno.test("gemini: operation error INVALID_ARGUMENT is a final failure with the message", async () => {
  await using s = replay([{ method: "GET", path: `/v1beta/${OP}`, json: f.operationError }]);
  const r = await geminiProvider.poll(OP, s.deps(env(s.url)));
  assert.deepEqual(r, {
    status: "failed",
    message: "Google Veo failed: The prompt could not be submitted. Duration 5 is not supported.",
    retryable: false,
  });
});

Deno.test("gemini: 429 with Retry-After seconds is retryable and carries the delay", async () => {
  await using s = replay([{
    method: "POST",
    path: "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
    status: 429,
    headers: { "retry-after": "17" },
    json: f.rateLimited,
  }]);
  const err = await geminiProvider.submit("veo-3.1-generate-preview", req, s.deps(env(s.url)))
    .then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError);
  assert.equal(err.retryable, true);
  assert.equal(err.status, 429);
  assert.equal(err.retryAfterMs, 17_000);
  assert.match(err.message, /429.*exceeded your current quota/);
  s.assertDone();
});

Deno.test("gemini: 503 on poll is retryable (HTTP-date Retry-After), then the poll recovers", async () => {
  const later = new Date(TEST_NOW + 30_000).toUTCString();
  await using s = replay([
    {
      method: "GET",
      path: `/v1beta/${OP}`,
      status: 503,
      headers: { "retry-after": later },
      json: f.unavailable,
    },
    { method: "GET", path: `/v1beta/${OP}`, json: f.done },
  ]);
  const deps = s.deps(env(s.url));
  const err = await geminiProvider.poll(OP, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 503);
  assert.equal(err.retryAfterMs, 30_000);
  assert.equal((await geminiProvider.poll(OP, deps)).status, "succeeded");
  s.assertDone();
});

Deno.test("gemini: 400 bad key is not retryable and the message never holds the key", async () => {
  const echo = {
    error: { code: 400, message: `API key not valid: ${KEY}`, status: "INVALID_ARGUMENT" },
  };
  await using s = replay([
    {
      method: "POST",
      path: "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
      status: 400,
      json: echo,
    },
  ]);
  const err = await geminiProvider.submit("veo-3.1-generate-preview", req, s.deps(env(s.url)))
    .then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 400);
  assert.ok(!err.message.includes(KEY), err.message);
  assert.match(err.message, /API key not valid/);
});

Deno.test("gemini: an unknown (expired) operation answers 404, not retryable", async () => {
  await using s = replay([{ method: "GET", path: `/v1beta/${OP}`, status: 404, json: f.notFound }]);
  const err = await geminiProvider.poll(OP, s.deps(env(s.url))).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 404);
  assert.match(err.message, /Operation not found/);
});

Deno.test("gemini: the key header is withheld from a video URI on a foreign host", async () => {
  const foreign = JSON.parse(
    JSON.stringify(f.done).replace(
      "{base}/v1beta/files/x1y2z3:download?alt=media",
      "https://evil.example/v.mp4",
    ),
  );
  "https://evil.example/v.mp4";
  await using s = replay([{ method: "GET", path: `/v1beta/${OP}`, json: foreign }]);
  assert.deepEqual(await geminiProvider.poll(OP, s.deps(env(s.url))), {
    status: "succeeded",
    output: { url: "https://evil.example/v.mp4" },
  });
});

Deno.test("gemini: a network failure is retryable; configuration follows the key", async () => {
  const deps = {
    fetch: () => Promise.reject(new TypeError("connection refused")),
    env: env("http://127.0.0.1:9"),
    workDir: "",
  };
  const err = await geminiProvider.poll(OP, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable);
  assert.equal(geminiProvider.isConfigured({ GEMINI_API_KEY: KEY }), true);
  assert.equal(geminiProvider.isConfigured({ GEMINI_API_KEY: "" }), false);
});

Deno.test("gemini: no parameters.seed: a seed is refused before anything is sent, and never routed here", async () => {
  await using s = replay([]);
  const err = await geminiProvider.submit(
    "veo-3.1-generate-preview",
    { ...req, seed: 7 },
    s.deps(env(s.url)),
  ).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError);
  assert.equal(err.retryable, false);
  assert.equal(s.requests.length, 0);
  for (const slug of ["google/veo-3.1", "google/veo-3.1-fast"]) {
    const model = findModel(slug)!;
    const gemini = model.routes.find((r) => r.provider === "gemini")!;
    assert.equal(routeRefusal(gemini, { ...req, seed: 7 }), "seed", slug);
    assert.equal(routeRefusal(gemini, req), null, slug);
    const fal = model.routes.find((r) => r.provider === "fal")!;
    assert.equal(routeRefusal(fal, { ...req, seed: 7 }), null, slug);
  }
});
