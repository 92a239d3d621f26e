import assert from "node:assert/strict";
import { runwayImage, runwayProvider, runwayTask } from "./runway.ts";
import { fixture, replay, TEST_NOW } from "../../tests/support/replay.ts";
import { ProviderError, type VideoRequest } from "./types.ts";

const SECRET = "key_TestRunwaySecret0123456789abcdef";
const ID = "17f20503-6c24-4c16-946b-35dbbce2af2f";
const f = await fixture<Record<string, unknown>>("runway");
const req: VideoRequest = {
  prompt: "a red fox running through snow",
  duration: 5,
  resolution: "720p",
  aspectRatio: "16:9",
  image: {
    url: "http://example.com/first.jpg",
    bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2]),
    mimeType: "image/jpeg",
  },
  seed: 3,
};
const env = (url: string) => ({ RUNWAYML_API_SECRET: SECRET, RUNWAYML_BASE_URL: url });

Deno.test("runway: image_to_video, then PENDING, THROTTLED, RUNNING, SUCCEEDED", async () => {
  await using s = replay([
    { method: "POST", path: "/v1/image_to_video", json: f.created },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.pending },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.throttled },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.running },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.succeeded },
  ]);
  const deps = s.deps(env(s.url));
  const { jobId } = await runwayProvider.submit("gen4_turbo", req, deps);
  assert.equal(jobId, ID);
  assert.deepEqual(await runwayProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await runwayProvider.poll(jobId, deps), { status: "running" });
  assert.deepEqual(await runwayProvider.poll(jobId, deps), { status: "running", progress: 0.4 });
  const done = await runwayProvider.poll(jobId, deps);
  assert.equal(done.status, "succeeded");
  assert.match(JSON.stringify(done), /cloudfront\.net\/17f20503/);
  s.assertDone();
  for (const r of s.requests) {
    assert.equal(r.headers.get("authorization"), `Bearer ${SECRET}`);
    assert.equal(r.headers.get("x-runway-version"), "2024-11-06");
  }
  assert.deepEqual(s.requests[0].json, {
    model: "gen4_turbo",
    promptText: "a red fox running through snow",
    ratio: "1280:720",
    duration: 5,
    seed: 3,
    promptImage: "data:image/jpeg;base64,/9j/4AEC",
  });
  assert.ok(runwayProvider.pollIntervalMs >= 5000);
});

Deno.test("runway: text only goes to text_to_video with a 1080p ratio", async () => {
  await using s = replay([{ method: "POST", path: "/v1/text_to_video", json: f.created }]);
  await runwayProvider.submit(
    "veo3.1",
    { ...req, image: undefined, resolution: "1080p", aspectRatio: "9:16", duration: 8 },
    s.deps(env(s.url)),
  );
  s.assertDone();
  assert.equal((s.requests[0].json as { ratio: string }).ratio, "1080:1920");
});

Deno.test("runway: output moderation is a retryable failure; a bad asset is final", async () => {
  await using s = replay([
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.failedOutputSafety },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.failedInputAsset },
  ]);
  const deps = s.deps(env(s.url));
  assert.deepEqual(await runwayProvider.poll(ID, deps), {
    status: "failed",
    message:
      "Runway could not generate the video: The output did not pass our content moderation. (SAFETY.OUTPUT.VIDEO)",
    retryable: true,
  });
  const bad = await runwayProvider.poll(ID, deps);
  assert.ok(bad.status === "failed" && !bad.retryable);
  assert.match(bad.status === "failed" ? bad.message : "", /valid JPEG.*ASSET\.INVALID/);
});

Deno.test("runway: 400 validation error is final and says which field", async () => {
  await using s = replay([
    { method: "POST", path: "/v1/image_to_video", status: 400, json: f.validation },
  ]);
  const err = await runwayProvider.submit("gen4_turbo", req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && !err.retryable && err.status === 400);
  assert.match(err.message, /Validation of body failed \(ratio: Invalid enum value/);
});

Deno.test("runway: 429 with an HTTP-date Retry-After", async () => {
  await using s = replay([{
    method: "POST",
    path: "/v1/image_to_video",
    status: 429,
    headers: { "retry-after": new Date(TEST_NOW + 61_000).toUTCString() },
    json: f.rateLimited,
  }]);
  const err = await runwayProvider.submit("gen4_turbo", req, s.deps(env(s.url))).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 429);
  assert.equal(err.retryAfterMs, 61_000);
  s.assertDone();
});

Deno.test("runway: 502 while polling is retryable, then recovery", async () => {
  await using s = replay([
    { method: "GET", path: `/v1/tasks/${ID}`, status: 502, json: f.badGateway },
    { method: "GET", path: `/v1/tasks/${ID}`, json: f.running },
  ]);
  const deps = s.deps(env(s.url));
  const err = await runwayProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError && err.retryable && err.status === 502);
  assert.equal((await runwayProvider.poll(ID, deps)).status, "running");
  s.assertDone();
});

Deno.test("runway: 401 never echoes the secret; 404 task is final", async () => {
  await using s = replay([
    { method: "GET", path: `/v1/tasks/${ID}`, status: 401, json: { error: `Bad key ${SECRET}` } },
    { method: "GET", path: `/v1/tasks/${ID}`, status: 404, json: f.notFound },
  ]);
  const deps = s.deps(env(s.url));
  const e1 = await runwayProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(e1 instanceof ProviderError && !e1.retryable && !e1.message.includes(SECRET));
  const e2 = await runwayProvider.poll(ID, deps).then(() => null, (e) => e);
  assert.ok(e2 instanceof ProviderError && !e2.retryable && e2.status === 404);
});

Deno.test("runway: cancel DELETEs the task", async () => {
  await using s = replay([{ method: "DELETE", path: `/v1/tasks/${ID}`, status: 204 }]);
  await runwayProvider.cancel!(ID, s.deps(env(s.url)));
  s.assertDone();
  assert.equal(s.requests[0].headers.get("x-runway-version"), "2024-11-06");
});

Deno.test("runway: an aspect ratio Runway lacks is refused before the paid call", async () => {
  await using s = replay([]);
  await assert.rejects(
    runwayProvider.submit("gen4_turbo", { ...req, aspectRatio: "2:1" }, s.deps(env(s.url))),
    (e: unknown) => e instanceof ProviderError && !e.retryable,
  );
  s.assertDone();
});

Deno.test("runway: promptImage is a data URI of the bytes we hold, never the user's http URL", async () => {
  const { path, body } = runwayTask("gen4_turbo", req);
  assert.equal(path, "/v1/image_to_video");
  const sent = (body as { promptImage: string }).promptImage;
  assert.match(sent, /^data:image\/jpeg;base64,/);
  assert.ok(!JSON.stringify(body).includes("example.com"));
  // Over Runway's 5 MB data URI limit: refused here, nothing sent.
  await using s = replay([]);
  const big = { ...req.image!, bytes: new Uint8Array(3_800_000) };
  const err = await runwayProvider.submit("gen4_turbo", { ...req, image: big }, s.deps(env(s.url)))
    .then(() => null, (e) => e);
  assert.ok(err instanceof ProviderError);
  assert.match(err.message, /too large for Runway/);
  assert.equal(err.retryable, true); // a models[] fallback may take the same image
  assert.throws(
    () => runwayImage({ ...req.image!, mimeType: "image/gif" }),
    (e: ProviderError) => /JPEG, PNG or WebP/.test(e.message),
  );
  assert.equal(s.requests.length, 0);
  // Without the bytes (the worker always fetches them) there is nothing safe to send.
  assert.throws(() => runwayImage({ url: "https://example.com/a.png" }), ProviderError);
});
