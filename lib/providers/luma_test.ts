import assert from "node:assert/strict";
import { LUMA_DEFAULT_BASE, lumaBaseIsOldForm, lumaProvider } from "./luma.ts";
import { fixture, replay } from "../../tests/support/replay.ts";
import { ProviderError, type VideoRequest } from "./types.ts";
import { ConfigError, parseEnv } from "../config.ts";

const KEY = "luma-TestLumaKey0123456789abcdef";
const ID = "4f2b6c1e-8a3d-4e7b-9c10-2d5e6f7a8b9c";
const PATH = "/dream-machine/v1/generations";
const f = await fixture<Record<string, unknown>>("luma");
const req: VideoRequest = {
  prompt: "a red fox running through snow",
  duration: 5,
  resolution: "720p",
  aspectRatio: "16:9",
};
// LUMAAI_BASE_URL as Luma's SDK means it: the API root, path included.
const env = (url: string) => ({ LUMAAI_API_KEY: KEY, LUMAAI_BASE_URL: `${url}/dream-machine/v1` });
const CREATE = `${PATH}/video`;

Deno.test("luma: creates a generation, polls queued and dreaming, returns assets.video", async () => {
  await using s = replay([
    { method: "POST", path: CREATE, status: 201, json: f.queued },
    { method: "GET", path: `${PATH}/${ID}`, json: f.queued },
    { method: "GET", path: `${PATH}/${ID}`, json: f.dreaming },
    { method: "GET", path: `${PATH}/${ID}`, json: f.completed },
  ]);
  const deps = s.deps(env(s.url));
  const image = { url: "https://example.com/first.jpg" };
  const { jobId } = await lumaProvider.submit("ray-2", { ...req, image }, deps);
  assert.equal(jobId, ID);
  assert.deepEqual(await lumaProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await lumaProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await lumaProvider.poll(jobId, deps), {
    status: "succeeded",
    output: { url: "https://storage.cdn-luma.com/dream_machine/4f2b6c1e/watermarked_video.mp4" },
  });
  s.assertDone();
  assert.ok(s.requests.every((r) => r.headers.get("authorization") === `Bearer ${KEY}`));
  assert.deepEqual(s.requests[0].json, {
    prompt: "a red fox running through snow",
    model: "ray-2",
    resolution: "720p",
    duration: "5s",
    aspect_ratio: "16:9",
    keyframes: { frame0: { type: "image", url: "https://example.com/first.jpg" } },
  });
});

Deno.test("luma: moderation failure is retryable and quotes Luma's reason", async () => {
  await using s = replay([{ method: "GET", path: `${PATH}/${ID}`, json: f.moderated }]);
  assert.deepEqual(await lumaProvider.poll(ID, s.deps(env(s.url))), {
    status: "failed",
    message:
      "Luma could not generate the video: 400: prompt not allowed because advanced moderation failed",
    retryable: true,
  });
});

Deno.test("luma: 400 invalid request is final with Luma's detail", async () => {
  await using s = replay([{ method: "POST", path: CREATE, status: 400, json: f.invalidRequest }]);
  const err = await lumaProvider.submit("ray-2", { ...req, duration: 7 }, s.deps(env(s.url)))
    .then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 400);
  assert.match(err.message, /duration must be one of 5s, 9s/);
});

Deno.test("luma: 429 is retryable with Retry-After", async () => {
  await using s = replay([{
    method: "POST",
    path: CREATE,
    status: 429,
    headers: { "retry-after": "20" },
    json: f.rateLimited,
  }]);
  const err = await lumaProvider.submit("ray-2", req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && err.retryable && err.retryAfterMs === 20_000);
  s.assertDone();
});

Deno.test("luma: 500 while polling is retryable, then the poll recovers", async () => {
  await using s = replay([
    { method: "GET", path: `${PATH}/${ID}`, status: 500, json: f.serverError },
    { method: "GET", path: `${PATH}/${ID}`, json: f.completed },
  ]);
  const deps = s.deps(env(s.url));
  const err = await lumaProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 500);
  assert.equal((await lumaProvider.poll(ID, deps)).status, "succeeded");
  s.assertDone();
});

Deno.test("luma: 401/404 are final and never echo the key", async () => {
  await using s = replay([
    {
      method: "GET",
      path: `${PATH}/${ID}`,
      status: 401,
      json: { detail: `Invalid API key ${KEY}` },
    },
    { method: "GET", path: `${PATH}/${ID}`, status: 404, json: f.notFound },
  ]);
  const deps = s.deps(env(s.url));
  const e1 = await lumaProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(e1 instanceof ProviderError && !e1.retryable && !e1.message.includes(KEY));
  const e2 = await lumaProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(e2 instanceof ProviderError && !e2.retryable && e2.status === 404);
});

Deno.test("luma: cancel deletes the generation", async () => {
  await using s = replay([{ method: "DELETE", path: `${PATH}/${ID}`, status: 204 }]);
  await lumaProvider.cancel!(ID, s.deps(env(s.url)));
  s.assertDone();
  assert.equal(s.requests[0].headers.get("authorization"), `Bearer ${KEY}`);
});

Deno.test("luma: creates at POST /generations/video under the SDK's base URL (not /generations)", async () => {
  await using s = replay([{ method: "POST", path: CREATE, status: 201, json: f.queued }]);
  await lumaProvider.submit("ray-2", req, s.deps(env(s.url)));
  s.assertDone();
  assert.equal(s.requests[0].path, "/dream-machine/v1/generations/video");
});

Deno.test("luma: the old LUMAAI_BASE_URL form (a bare origin) is refused with the fix, nothing sent", async () => {
  await using s = replay([]);
  const err = await lumaProvider.submit(
    "ray-2",
    req,
    s.deps({ LUMAAI_API_KEY: KEY, LUMAAI_BASE_URL: s.url }),
  ).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError);
  assert.equal(err.retryable, false);
  assert.match(err.message, /LUMAAI_BASE_URL.*\/dream-machine\/v1/);
  assert.equal(s.requests.length, 0);
  assert.equal(lumaBaseIsOldForm("https://api.lumalabs.ai/"), true);
  assert.equal(lumaBaseIsOldForm(LUMA_DEFAULT_BASE), false);
});

Deno.test("luma: config refuses the old LUMAAI_BASE_URL form at start-up, naming the fix", () => {
  assert.throws(
    () => parseEnv({ LUMAAI_BASE_URL: "https://api.lumalabs.ai" }),
    (err: Error) =>
      err instanceof ConfigError && /LUMAAI_BASE_URL.*dream-machine\/v1/.test(err.message),
  );
  assert.equal(parseEnv({}).LUMAAI_BASE_URL, LUMA_DEFAULT_BASE);
  const proxy = "http://127.0.0.1:9000/dream-machine/v1";
  assert.equal(parseEnv({ LUMAAI_BASE_URL: proxy }).LUMAAI_BASE_URL, proxy);
});
