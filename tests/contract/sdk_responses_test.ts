/**
 * Response parsing against the SDKs' own response types: every status each SDK lists (the
 * mapped types below fail to compile if a status is missing), where the video URL lives, error
 * and moderation shapes, and the cost each provider reports.
 */
import assert from "node:assert/strict";
import type { TaskRetrieveResponse } from "@runwayml/sdk/resources";
import type { Prediction } from "replicate";
import type LumaAI from "lumaai";
import type { QueueStatus } from "@fal-ai/client";
import type { EndpointTypeMap } from "@fal-ai/client/endpoints";
import { GenerateVideosOperation, GoogleGenAI } from "@google/genai";
import { runwayTaskResult } from "../../lib/providers/runway.ts";
import { predictionResult } from "../../lib/providers/replicate.ts";
import { lumaGenerationResult } from "../../lib/providers/luma.ts";
import { falProvider } from "../../lib/providers/fal.ts";
import { geminiProvider } from "../../lib/providers/gemini.ts";
import type { PollResult, ProviderDeps } from "../../lib/providers/types.ts";
import { recorder } from "./recorder.ts";

type ByStatus<T extends { status: string }> = { [S in T["status"]]: T & { status: S } };
const outcome = (r: PollResult) =>
  r.status === "failed" ? `failed${r.retryable ? " (retryable)" : ""}` : r.status;

Deno.test("responses: every Runway task status of @runwayml/sdk, its video URL and its cost", () => {
  const at = "2026-11-29T00:00:00Z";
  const id = "17f20503-6c24-4c16-946b-35dbbce2af2f";
  const tasks: ByStatus<TaskRetrieveResponse> = {
    PENDING: { id, createdAt: at, status: "PENDING", estimatedCost: { credits: 25 } },
    THROTTLED: { id, createdAt: at, status: "THROTTLED", estimatedCost: { credits: 25 } },
    RUNNING: {
      id,
      createdAt: at,
      status: "RUNNING",
      progress: 0.5,
      estimatedCost: { credits: 25 },
    },
    SUCCEEDED: {
      id,
      createdAt: at,
      status: "SUCCEEDED",
      output: ["https://r/v.mp4"],
      cost: { credits: 25 },
    },
    FAILED: {
      id,
      createdAt: at,
      status: "FAILED",
      failure: "Output was flagged",
      failureCode: "SAFETY.OUTPUT.VIDEO",
      cost: { credits: 0 },
    },
    CANCELLED: { id, createdAt: at, status: "CANCELLED", cost: { credits: 0 } },
  };
  const got = Object.fromEntries(
    Object.entries(tasks).map(([s, t]) => [s, outcome(runwayTaskResult(t, "secret"))]),
  );
  assert.deepEqual(got, {
    PENDING: "running",
    THROTTLED: "running", // queued behind our concurrency limit, not a failure
    RUNNING: "running",
    SUCCEEDED: "succeeded",
    FAILED: "failed (retryable)", // output moderation may pass on another model
    CANCELLED: "failed",
  });
  assert.deepEqual(runwayTaskResult(tasks.SUCCEEDED, "s"), {
    status: "succeeded",
    output: { url: "https://r/v.mp4" },
    reported: { credits: 25, costCents: 25 },
  });
  assert.deepEqual(runwayTaskResult(tasks.RUNNING, "s"), { status: "running", progress: 0.5 });
  const inputError = { ...tasks.FAILED, failureCode: "INPUT_PREPROCESSING.SAFETY.TEXT" };
  assert.equal(outcome(runwayTaskResult(inputError, "s")), "failed");
});

Deno.test("responses: every Replicate prediction status of the replicate SDK, output and metrics", () => {
  const base = {
    id: "q2w3e4r5",
    model: "kwaivgi/kling-v2.5-turbo-pro",
    version: "hidden" as const,
    input: {},
    source: "api" as const,
    data_removed: false,
    created_at: "2026-11-29T00:00:00Z",
    urls: { get: "https://api.replicate.com/v1/predictions/q2w3e4r5", cancel: "c" },
  };
  const predictions: ByStatus<Prediction> = {
    starting: { ...base, status: "starting" },
    processing: { ...base, status: "processing" },
    succeeded: {
      ...base,
      status: "succeeded",
      output: "https://replicate.delivery/x/out.mp4",
      metrics: { predict_time: 61.5, total_time: 70 },
    },
    failed: { ...base, status: "failed", error: "Prediction flagged as sensitive (E005)" },
    canceled: { ...base, status: "canceled" },
    aborted: { ...base, status: "aborted" },
  };
  const got = Object.fromEntries(
    Object.entries(predictions).map(([s, p]) => [s, outcome(predictionResult(p, "t"))]),
  );
  assert.deepEqual(got, {
    starting: "running",
    processing: "running",
    succeeded: "succeeded",
    failed: "failed (retryable)",
    canceled: "failed",
    aborted: "failed (retryable)",
  });
  assert.deepEqual(predictionResult(predictions.succeeded, "t"), {
    status: "succeeded",
    output: { url: "https://replicate.delivery/x/out.mp4" },
    reported: { predictTimeSeconds: 61.5 },
  });
  // Output as a list of files, as some models return.
  const list = { ...predictions.succeeded, output: ["https://replicate.delivery/x/a.mp4"] };
  assert.equal(predictionResult(list, "t").status, "succeeded");
  const bad = { ...predictions.failed, error: "duration must be one of: 5, 10" };
  assert.equal(outcome(predictionResult(bad, "t")), "failed");
});

Deno.test("responses: every Luma generation state of the lumaai SDK and where the video is", () => {
  type G = LumaAI.Generations.Generation;
  type State = NonNullable<G["state"]>;
  const g = (state: State, extra: Partial<G> = {}): G => ({
    id: "4f2b6c1e-8a3d-4e7b-9c10-2d5e6f7a8b9c",
    state,
    ...extra,
  });
  const states: { [S in State]: G } = {
    queued: g("queued"),
    dreaming: g("dreaming"),
    completed: g("completed", { assets: { video: "https://cdn-luma/v.mp4" } }),
    failed: g("failed", {
      failure_reason: "400: prompt not allowed because advanced moderation failed",
    }),
  };
  const got = Object.fromEntries(
    Object.entries(states).map(([s, x]) => [s, outcome(lumaGenerationResult(x, "k"))]),
  );
  assert.deepEqual(got, {
    queued: "running",
    dreaming: "running",
    completed: "succeeded",
    failed: "failed (retryable)", // moderation may pass on another model
  });
  assert.deepEqual(lumaGenerationResult(states.completed, "k"), {
    status: "succeeded",
    output: { url: "https://cdn-luma/v.mp4" },
  });
});

Deno.test("responses: fal queue statuses of @fal-ai/client, the video at video.url, billed units", async () => {
  const urls = { response_url: "u", status_url: "s", cancel_url: "c" };
  const statuses: ByStatus<QueueStatus> = {
    IN_QUEUE: { status: "IN_QUEUE", request_id: "r", queue_position: 2, ...urls },
    IN_PROGRESS: { status: "IN_PROGRESS", request_id: "r", logs: [], ...urls },
    COMPLETED: { status: "COMPLETED", request_id: "r", logs: [], ...urls },
  };
  const output: EndpointTypeMap["fal-ai/veo3.1"]["output"] = {
    video: { url: "https://v3.fal.media/files/x/out.mp4", content_type: "video/mp4" },
  } as EndpointTypeMap["fal-ai/veo3.1"]["output"];
  let next: unknown = null;
  await using rec = recorder(() => next);
  const KEY = "fal-key-id:fal-key-secret";
  const deps: ProviderDeps = {
    env: { FAL_KEY: KEY, FAL_QUEUE_URL: rec.url },
    workDir: "/nonexistent",
    // The result fetch carries the billed units header, as fal's queue sends it.
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith("/status")) {
        return new Response(res.body, { headers: { "x-fal-billable-units": "8" } });
      }
      return res;
    },
  };
  const job = JSON.stringify({
    id: "r",
    status: `${rec.url}/fal-ai/veo3.1/requests/r/status`,
    response: `${rec.url}/fal-ai/veo3.1/requests/r`,
    cancel: `${rec.url}/fal-ai/veo3.1/requests/r/cancel`,
  });
  const got: Record<string, string> = {};
  for (const [s, st] of Object.entries(statuses)) {
    next = st;
    if (s === "COMPLETED") {
      // The poll reads the status, then the result: answer each in turn.
      let calls = 0;
      next = null;
      const orig = deps.fetch;
      deps.fetch = (input, init) => {
        next = calls++ === 0 ? st : output;
        return orig(input, init);
      };
      const r = await falProvider.poll(job, deps);
      got[s] = r.status;
      assert.deepEqual(r, {
        status: "succeeded",
        output: { url: "https://v3.fal.media/files/x/out.mp4" },
        reported: { billableUnits: 8 },
      });
      deps.fetch = orig;
    } else {
      got[s] = (await falProvider.poll(job, deps)).status;
    }
  }
  assert.deepEqual(got, { IN_QUEUE: "running", IN_PROGRESS: "running", COMPLETED: "succeeded" });
});

Deno.test("responses: a Veo operation reads the same with our adapter and @google/genai", async () => {
  const OP = "models/veo-3.1-generate-preview/operations/2b9k4f7qzx1m";
  const shapes = {
    running: { name: OP },
    done: {
      name: OP,
      done: true,
      response: {
        generateVideoResponse: {
          generatedSamples: [{
            video: {
              uri: "https://generativelanguage.googleapis.com/v1beta/files/x:download?alt=media",
            },
          }],
        },
      },
    },
    filtered: {
      name: OP,
      done: true,
      response: {
        generateVideoResponse: {
          raiMediaFilteredCount: 1,
          raiMediaFilteredReasons: ["blocked by safety filters"],
        },
      },
    },
    error: {
      name: OP,
      done: true,
      error: { code: 3, message: "bad duration", status: "INVALID_ARGUMENT" },
    },
  };
  let next: unknown = null;
  await using rec = recorder(() => next);
  const KEY = "AIzaGeminiKey0123456789";
  const sdk = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: rec.url } });
  const deps: ProviderDeps = {
    fetch,
    env: { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: rec.url },
    workDir: "/x",
  };
  for (const [name, shape] of Object.entries(shapes)) {
    next = shape;
    const ours = await geminiProvider.poll(OP, deps);
    const op = new GenerateVideosOperation();
    op.name = OP;
    const theirs = await sdk.operations.getVideosOperation({ operation: op });
    const [a, b] = rec.take();
    assert.equal(a.path, b.path, name); // the same operation URL
    assert.equal(a.headers.get("x-goog-api-key"), b.headers.get("x-goog-api-key"));
    const uri = theirs.response?.generatedVideos?.[0]?.video?.uri;
    if (name === "done") {
      assert.deepEqual(ours.status === "succeeded" && ours.output, {
        url: uri,
        ...(ours.status === "succeeded" && "headers" in ours.output
          ? { headers: ours.output.headers }
          : {}),
      });
    } else if (name === "running") {
      assert.equal(ours.status, "running");
      assert.ok(!theirs.done);
    } else if (name === "filtered") {
      assert.equal(theirs.response?.raiMediaFilteredCount, 1);
      assert.equal(outcome(ours), "failed (retryable)");
    } else {
      assert.equal(theirs.error?.code, 3);
      assert.equal(outcome(ours), "failed");
    }
  }
});
