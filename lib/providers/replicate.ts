/**
 * Replicate predictions API for official models (api.replicate.com/v1).
 * Read 2026-11-27: replicate.com/docs/reference/http and the `replicate` npm client:
 * POST /v1/models/{owner}/{name}/predictions {input} -> prediction {id, status, urls};
 * GET /v1/predictions/{id}; POST /v1/predictions/{id}/cancel. Statuses: starting, processing,
 * succeeded, failed, canceled, aborted. Errors are problem+json {title, detail, status}.
 * GET /v1/predictions lists the account's predictions newest first, each with its model, input and
 * created_at, paged by an absolute `next` URL: how a crashed submit's prediction is found.
 * Image field names differ by model family (Kling start_image, Hailuo first_frame_image).
 */
import {
  type PollResult,
  type ProviderAdapter,
  ProviderError,
  type ReportedUsage,
  type VideoRequest,
} from "./types.ts";
import {
  baseUrl,
  type ClockedDeps,
  envString,
  mappedInput,
  ORPHAN_PAGES,
  orphanTime,
  readJson,
  redact,
  requireKey,
  sameOrigin,
  sentWith,
  upstreamFetch,
} from "./upstream.ts";

const DEFAULT_BASE = "https://api.replicate.com";
const PROVIDER = "Replicate";
const PREDICTION_ID = /^[a-z0-9]+$/i;
const MODEL = /^[\w.-]+\/[\w.-]+$/;

interface Prediction {
  id?: string;
  status?: string;
  model?: string;
  input?: unknown;
  created_at?: string;
  output?: unknown;
  error?: unknown;
  metrics?: { predict_time?: number; total_time?: number };
}

/** How long the prediction ran, when Replicate says (reconciliation of time-billed models). */
function replicateReported(p: Prediction): { reported?: ReportedUsage } {
  const t = p.metrics?.predict_time;
  return typeof t === "number" && Number.isFinite(t) ? { reported: { predictTimeSeconds: t } } : {};
}

// Which input field carries the first frame, by model owner.
const IMAGE_FIELD: Record<string, string> = {
  kwaivgi: "start_image",
  minimax: "first_frame_image",
};

/** The prediction input for one request, in the field names of the model's schema. */
export function replicateInput(upstreamModel: string, req: VideoRequest): Record<string, unknown> {
  const owner = upstreamModel.split("/")[0];
  const input: Record<string, unknown> = { prompt: req.prompt, duration: req.duration };
  // Hailuo's schema has no aspect ratio; Kling's ignores it when given a start image.
  if (owner !== "minimax" && !req.image) input.aspect_ratio = req.aspectRatio;
  // Kling's schema has no resolution; the others take "720p"-style values.
  if (owner !== "kwaivgi") input.resolution = req.resolution;
  if (req.negativePrompt) input.negative_prompt = req.negativePrompt;
  if (req.seed !== undefined) input.seed = req.seed;
  if (req.audio !== undefined && owner === "google") input.generate_audio = req.audio;
  // minimax/hailuo-02's prompt_optimizer defaults to true: the prompt is rewritten only if asked.
  if (owner === "minimax") input.prompt_optimizer = req.enhancePrompt === true;
  if (req.image) input[IMAGE_FIELD[owner] ?? "image"] = req.image.url;
  return input;
}

/** The first URL in a prediction's output (a string or a list of them). */
function outputUrl(output: unknown): string | undefined {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) return output.find((o): o is string => typeof o === "string");
  return undefined;
}

/** Maps a prediction to a poll result. */
export function predictionResult(p: Prediction, token: string): PollResult {
  switch (p.status) {
    case "starting":
    case "processing":
      return { status: "running" };
    case "succeeded": {
      const url = outputUrl(p.output);
      if (url) return { status: "succeeded", output: { url }, ...replicateReported(p) };
      return { status: "failed", message: "Replicate returned no video", retryable: true };
    }
    case "canceled":
      return {
        status: "failed",
        message: "The Replicate prediction was cancelled",
        retryable: false,
      };
    case "aborted":
      return {
        status: "failed",
        message: "Replicate aborted the prediction before it finished",
        retryable: true,
      };
    case "failed": {
      const said = typeof p.error === "string" ? p.error : JSON.stringify(p.error ?? "no details");
      // E005 is Replicate's "flagged as sensitive" code: another model may accept the prompt.
      const moderated = /E005|flagged as sensitive|nsfw|safety/i.test(said);
      const badInput = /invalid|must be|not supported|unsupported/i.test(said);
      return {
        status: "failed",
        message: redact(`Replicate prediction failed: ${said}`, [token]),
        retryable: moderated || !badInput,
        ...replicateReported(p),
      };
    }
    default:
      throw new ProviderError(`${PROVIDER} reported an unknown status: ${p.status}`, true);
  }
}

/**
 * The API origin. The replicate SDK's baseUrl ends in /v1 while REPLICATE_BASE_URL is the origin
 * (we add /v1): a value copied from the SDK's form is taken as meant, not doubled.
 */
export function replicateBase(env: ClockedDeps["env"]): string {
  return baseUrl(env, "REPLICATE_BASE_URL", DEFAULT_BASE).replace(/\/v1$/, "");
}

function checkId(jobId: string) {
  if (!PREDICTION_ID.test(jobId)) {
    throw new ProviderError(`Not a Replicate prediction id: ${jobId}`, false);
  }
}

export const replicateProvider: ProviderAdapter = {
  id: "replicate",
  name: "Replicate",
  pollIntervalMs: 5_000,
  isConfigured: (env) => envString(env, "REPLICATE_API_TOKEN") !== undefined,

  async submit(upstreamModel, req, deps: ClockedDeps, mapped) {
    const token = requireKey(deps.env, "REPLICATE_API_TOKEN", PROVIDER);
    const base = replicateBase(deps.env);
    if (!MODEL.test(upstreamModel)) {
      throw new ProviderError(`Not a Replicate model name: ${upstreamModel}`, false);
    }
    const call = { provider: PROVIDER, action: "starting the prediction", secret: token };
    const res = await upstreamFetch(deps, call, `${base}/v1/models/${upstreamModel}/predictions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      // An operator route (CATALOG_FILE) names its own fields; Replicate types durations as numbers.
      body: JSON.stringify({
        input: mapped ? mappedInput(req, mapped, "number") : replicateInput(upstreamModel, req),
      }),
    });
    const p = await readJson<Prediction>(res, call);
    if (typeof p.id !== "string" || !PREDICTION_ID.test(p.id)) {
      throw new ProviderError(`${PROVIDER} did not return a prediction id`, false, res.status);
    }
    return { jobId: p.id };
  },

  async poll(jobId, deps: ClockedDeps) {
    const token = requireKey(deps.env, "REPLICATE_API_TOKEN", PROVIDER);
    const base = replicateBase(deps.env);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "checking the prediction", secret: token };
    const res = await upstreamFetch(deps, call, `${base}/v1/predictions/${jobId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return predictionResult(await readJson<Prediction>(res, call), token);
  },

  async cancel(jobId, deps: ClockedDeps) {
    const token = requireKey(deps.env, "REPLICATE_API_TOKEN", PROVIDER);
    const base = replicateBase(deps.env);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "cancelling the prediction", secret: token };
    const res = await upstreamFetch(deps, call, `${base}/v1/predictions/${jobId}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    await res.body?.cancel();
    return true; // a 2xx: the task or prediction is cancelled
  },

  /** Predictions of this model with this input, created since the attempt and not ended. */
  async findOrphan(upstreamModel, req, sinceMs, deps: ClockedDeps) {
    const token = requireKey(deps.env, "REPLICATE_API_TOKEN", PROVIDER);
    const base = replicateBase(deps.env);
    const input = replicateInput(upstreamModel, req);
    const call = { provider: PROVIDER, action: "listing predictions", secret: token };
    const found: { id: string; at: number }[] = [];
    let url: string | null = `${base}/v1/predictions`;
    for (let page = 0; url && page < ORPHAN_PAGES; page++) {
      const res = await upstreamFetch(deps, call, url, {
        headers: { authorization: `Bearer ${token}` },
      });
      const list = await readJson<{ results?: Prediction[]; next?: string | null }>(res, call);
      const results = list.results ?? [];
      for (const p of results) {
        const at = orphanTime(p.created_at, sinceMs);
        if (
          at !== null && typeof p.id === "string" && PREDICTION_ID.test(p.id) &&
          p.model === upstreamModel && !ENDED.has(p.status ?? "") && sentWith(p.input, input)
        ) found.push({ id: p.id, at });
      }
      // Newest first: a page that reaches past the window is the last one that can match.
      if (results.length === 0 || results.some((p) => orphanTime(p.created_at, sinceMs) === null)) {
        break;
      }
      url = list.next && sameOrigin(list.next, base) ? list.next : null;
    }
    return found.sort((a, b) => a.at - b.at).map((f) => f.id);
  },
};

/** A prediction in one of these states is no job to adopt (cancelled, perhaps as a duplicate). */
const ENDED = new Set(["failed", "canceled", "aborted"]);
