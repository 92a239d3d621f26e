import assert from "node:assert/strict";
import type { GenerationRecord } from "../db/generations.ts";
import { presentedGenerationSchema } from "../openapi.ts";
import { presentGeneration } from "./generation.ts";

const T0 = 1_700_000_000_000;
const ctx = { publicUrl: "https://video.example.com", secretKey: "k".repeat(32), nowMs: T0 };

function record(over: Partial<GenerationRecord> = {}): GenerationRecord {
  return {
    id: "gen_01JAAAAAAAAAAAAAAAAAAAAAAA",
    org_id: "org_1",
    api_key_id: "key_1",
    status: "pending",
    model: "t/one",
    options: { prompt: "p", duration: 5, resolution: "720p", aspect_ratio: "16:9" },
    candidates: [
      { model: "t/one", provider: "fal", upstream_model: "x", price_cents: 40 },
      { model: "t/one", provider: "replicate", upstream_model: "y", price_cents: 30 },
    ],
    attempt: 0,
    attempts: [],
    charged_cents: 40,
    cost_cents: null,
    refunded_cents: 0,
    provider_job_id: null,
    submit_claimed_at: null,
    tick: 0,
    poll_count: 0,
    next_check_at: T0,
    deadline_at: T0 + 3_600_000,
    output: null,
    latency_ms: null,
    error_message: null,
    application_name: null,
    metadata: null,
    webhook_url: null,
    idempotency_key: null,
    created_at: T0,
    updated_at: T0,
    completed_at: null,
    ...over,
  };
}

Deno.test("a pending generation shows what was charged, its routing and its URLs", async () => {
  const g = await presentGeneration(record(), ctx);
  assert.equal(g.cost_cents, 40);
  assert.equal(g.progress, 0);
  assert.deepEqual(g.routing, {
    provider: "fal",
    attempt: 0,
    candidates: [{ model: "t/one", provider: "fal" }, { model: "t/one", provider: "replicate" }],
  });
  const self = "https://video.example.com/v1/video/generations/gen_01JAAAAAAAAAAAAAAAAAAAAAAA";
  assert.deepEqual(g.urls, { get: self, cancel: `${self}/cancel`, events: `${self}/events` });
  assert.deepEqual(presentedGenerationSchema.strict().parse(g), g);
});

Deno.test("terminal generations show the settled cost; compat fields are toApiGeneration's", async () => {
  const failed = await presentGeneration(
    record({ status: "failed", cost_cents: 0, refunded_cents: 40, error_message: "boom" }),
    ctx,
  );
  assert.equal(failed.cost_cents, 0);
  const done = await presentGeneration(
    record({
      status: "completed",
      cost_cents: 30,
      refunded_cents: 10,
      attempt: 1,
      output: { stored: true },
      completed_at: T0 + 9000,
      latency_ms: 9000,
    }),
    ctx,
  );
  assert.equal(done.cost_cents, 30);
  assert.equal(done.progress, 100);
  assert.equal(done.routing.provider, "replicate");
  assert.match(done.output_url!, /^https:\/\/video\.example\.com\//);
});

Deno.test("progress: the provider's figure where reported, else a capped estimate that rises", async () => {
  const running = (over: Partial<GenerationRecord>, nowMs: number) =>
    presentGeneration(
      record({
        status: "processing",
        attempts: [{
          model: "t/one",
          provider: "fal",
          upstream_job_id: "j",
          started_at: T0,
          ended_at: null,
          error: null,
        }],
        ...over,
      }),
      { ...ctx, nowMs },
    );
  assert.equal((await running({ progress: 42 }, T0 + 1000)).progress, 42);
  const early = (await running({}, T0 + 5_000)).progress;
  const later = (await running({}, T0 + 30_000)).progress;
  const much = (await running({}, T0 + 3_600_000)).progress;
  assert.ok(0 < early && early < later && later < much, `${early} ${later} ${much}`);
  assert.ok(much <= 95, "an estimate never claims to be done");
});
