/**
 * What the real adapters' upstream answers do to a generation (issue 22), over real HTTP to
 * recorded provider responses: a retired model fails over, a cancel refunds only what the
 * provider confirms stopped, a refusal carries its machine-readable reason.
 */
import assert from "node:assert/strict";
import type { Model } from "../catalog/mod.ts";
import { getBalance, verifyLedger } from "../db/ledger.ts";
import { getGeneration } from "../db/generations.ts";
import { Conflict } from "../errors.ts";
import { falProvider } from "../providers/fal.ts";
import { geminiProvider } from "../providers/gemini.ts";
import { parseGenerationBody } from "./schema.ts";
import { cancelGeneration, createGeneration, planCandidates, toApiGeneration } from "./service.ts";
import { pollGeneration, submitGeneration } from "./workers.ts";
import { fixture, replay } from "../../tests/support/replay.ts";
import {
  fundedOrg,
  testClock,
  testDeps,
  withGeminiVeoLive,
} from "../../tests/support/generations.ts";

const fal = await fixture("fal");
const gemini = await fixture("gemini");
const FAL_REQ = "/fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b";
const GEMINI_SUBMIT = "/v1beta/models/veo-3.1-generate-preview:predictLongRunning";
const noStore = {
  storeFromFile: () => Promise.reject(new Error("unused")),
  storeFromUrl: () => Promise.resolve({ bytes: 1234 }),
};

/** The shipped Veo 3.1 as it was before Google retired its Gemini route (ranked first then). */
const veoBeforeRetirement = (): Model =>
  withGeminiVeoLive().find((m) => m.slug === "google/veo-3.1")!;

async function setup(servers: { gemini?: string; fal?: string }, models?: Model[]) {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { gemini: geminiProvider, fal: falProvider },
    providerDeps: {
      fetch,
      workDir: "/nonexistent",
      env: {
        GEMINI_API_KEY: "gemini-key-0123456789",
        GEMINI_BASE_URL: servers.gemini ?? "http://127.0.0.1:9",
        FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
        FAL_QUEUE_URL: servers.fal ?? "http://127.0.0.1:9",
      },
    },
    storage: noStore,
    ...(models ? { models } : {}),
  });
  const org = await fundedOrg(kv, 10_000, clock.now());
  return { kv, clock, deps, org, [Symbol.dispose]: () => kv.close() };
}

Deno.test("the retired Gemini Veo routes are not ranked: google/veo-3.1 runs on fal", async () => {
  using t = await setup({});
  const plan = planCandidates(
    t.deps,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "p" }),
  );
  assert.deepEqual(plan.candidates.map((c) => c.provider), ["fal"]);
  const fast = planCandidates(
    t.deps,
    parseGenerationBody({ model: "google/veo-3.1-fast", prompt: "p" }),
  );
  assert.deepEqual(fast.candidates.map((c) => c.provider), ["fal"]);
});

Deno.test("a Gemini 404 'model not found' fails over to fal, which completes it", async () => {
  await using g = replay([
    { method: "POST", path: GEMINI_SUBMIT, status: 404, json: gemini.modelNotFound },
  ]);
  await using f = replay([
    { method: "POST", path: "/fal-ai/veo3.1", json: fal.submitted },
    { method: "GET", path: `${FAL_REQ}/status`, json: fal.completed },
    { method: "GET", path: FAL_REQ, json: fal.result },
  ]);
  using t = await setup({ gemini: g.url, fal: f.url }, [veoBeforeRetirement()]);
  const { id } = await createGeneration(
    t.deps,
    t.org.id,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "a red fox", duration: 4 }),
  );
  let rec = await getGeneration(t.kv, t.org.id, id);
  assert.deepEqual(rec.candidates.map((c) => c.provider), ["gemini", "fal"]);
  await submitGeneration(t.deps, id); // Gemini: 404, the model is gone
  rec = await getGeneration(t.kv, t.org.id, id);
  assert.equal(rec.status, "pending", rec.error_message ?? "");
  assert.equal(rec.attempt, 1);
  await submitGeneration(t.deps, id); // fal queues it
  t.clock.advance(10_000);
  await pollGeneration(t.deps, id);
  rec = await getGeneration(t.kv, t.org.id, id);
  assert.equal(rec.status, "completed", rec.error_message ?? "");
  assert.match(rec.attempts[0].error ?? "", /gemini.*404.*is not found/);
  assert.equal(rec.cost_cents, rec.candidates[1].price_cents);
  g.assertDone();
  f.assertDone();
  assert.ok((await verifyLedger(t.kv, t.org.id)).ok);
});

Deno.test("cancel of a running Gemini job is 409 not_cancellable: nothing refunded, it runs on", async () => {
  await using g = replay([
    { method: "POST", path: GEMINI_SUBMIT, json: gemini.submitted },
  ]);
  using t = await setup({ gemini: g.url }, [veoBeforeRetirement()]);
  const { id } = await createGeneration(
    t.deps,
    t.org.id,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "a red fox", provider: "gemini" }),
  );
  const charged = 10_000 - await getBalance(t.kv, t.org.id);
  assert.ok(charged > 0);
  await submitGeneration(t.deps, id);
  assert.equal((await getGeneration(t.kv, t.org.id, id)).status, "processing");
  const err = await cancelGeneration(t.deps, t.org.id, id).then(() => null, (e) => e);
  assert.ok(err instanceof Conflict, String(err));
  assert.equal(err.code, "not_cancellable");
  assert.equal(err.status, 409);
  assert.equal((await getGeneration(t.kv, t.org.id, id)).status, "processing");
  assert.equal(await getBalance(t.kv, t.org.id), 10_000 - charged);
  g.assertDone(); // Gemini has no cancel: nothing was sent
});

Deno.test("cancel of a queued fal job: fal confirms (202), the generation is refunded", async () => {
  await using f = replay([
    { method: "POST", path: "/fal-ai/veo3.1", json: fal.submitted },
    { method: "PUT", path: `${FAL_REQ}/cancel`, status: 202, json: fal.cancelled },
  ]);
  using t = await setup({ fal: f.url });
  const { id } = await createGeneration(
    t.deps,
    t.org.id,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "a red fox" }),
  );
  await submitGeneration(t.deps, id);
  assert.equal((await getGeneration(t.kv, t.org.id, id)).status, "processing");
  const g = await cancelGeneration(t.deps, t.org.id, id);
  assert.equal(g.status, "cancelled");
  assert.equal(await getBalance(t.kv, t.org.id), 10_000);
  const api = await toApiGeneration(g, { publicUrl: "http://x", secretKey: "k", nowMs: 0 });
  assert.deepEqual(api.error?.code, "cancelled");
  f.assertDone();
  assert.ok((await verifyLedger(t.kv, t.org.id)).ok);
});

Deno.test("cancel of a fal job already running: fal says ALREADY_COMPLETED (400), so 409", async () => {
  await using f = replay([
    { method: "POST", path: "/fal-ai/veo3.1", json: fal.submitted },
    { method: "PUT", path: `${FAL_REQ}/cancel`, status: 400, json: fal.alreadyCompleted },
  ]);
  using t = await setup({ fal: f.url });
  const { id } = await createGeneration(
    t.deps,
    t.org.id,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "a red fox" }),
  );
  const before = await getBalance(t.kv, t.org.id);
  await submitGeneration(t.deps, id);
  await assert.rejects(
    cancelGeneration(t.deps, t.org.id, id),
    (e) => e instanceof Conflict && e.code === "not_cancellable",
  );
  assert.equal((await getGeneration(t.kv, t.org.id, id)).status, "processing");
  assert.equal(await getBalance(t.kv, t.org.id), before);
  f.assertDone();
});

Deno.test("fal's 422 content-policy refusal fails the generation with error.code content_moderated", async () => {
  await using f = replay([
    { method: "POST", path: "/fal-ai/veo3.1", status: 422, json: fal.moderated },
  ]);
  using t = await setup({ fal: f.url });
  const { id } = await createGeneration(
    t.deps,
    t.org.id,
    parseGenerationBody({ model: "google/veo-3.1", prompt: "a red fox" }),
  );
  await submitGeneration(t.deps, id);
  const g = await getGeneration(t.kv, t.org.id, id);
  assert.equal(g.status, "failed");
  const api = await toApiGeneration(g, { publicUrl: "http://x", secretKey: "k", nowMs: 0 });
  assert.equal(api.error?.code, "content_moderated");
  assert.equal(api.error?.message, api.error_message);
  assert.match(api.error_message ?? "", /flagged by a content checker/);
  assert.equal(await getBalance(t.kv, t.org.id), 10_000);
  f.assertDone();
});

Deno.test("what the user asked is what fal gets: an image's own shape and no prompt rewriting by default", async () => {
  const sent = async (extra: Record<string, unknown>) => {
    await using f = replay([
      { method: "POST", path: "/fal-ai/veo3.1/image-to-video", json: fal.submitted },
    ]);
    using t = await setup({ fal: f.url });
    t.deps.fetchImage = () =>
      Promise.resolve({ bytes: new Uint8Array([1]), mimeType: "image/png" });
    const body = { model: "google/veo-3.1", prompt: "a red fox", ...extra };
    const { id } = await createGeneration(
      t.deps,
      t.org.id,
      parseGenerationBody({ ...body, image_url: "https://example.com/portrait.png" }),
    );
    await submitGeneration(t.deps, id);
    f.assertDone();
    return f.requests[0].json as Record<string, unknown>;
  };
  const plain = await sent({});
  assert.equal(plain.aspect_ratio, "auto"); // follow the portrait image, do not crop it to 16:9
  assert.equal(plain.auto_fix, false); // fal would rewrite a refused prompt otherwise
  const chosen = await sent({ aspect_ratio: "9:16", enhance_prompt: true });
  assert.equal(chosen.aspect_ratio, "9:16");
  assert.equal(chosen.auto_fix, true);
});
