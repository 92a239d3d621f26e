/**
 * Runway developer API (api.dev.runwayml.com/v1), API version 2024-11-06.
 * Read 2026-11-27: docs.dev.runwayml.com (API reference, "Getting started") and @runwayml/sdk:
 * POST /v1/image_to_video {model, promptImage, promptText, ratio, duration, seed} or
 * POST /v1/text_to_video (models that allow text only) -> {id}; GET /v1/tasks/{id} ->
 * PENDING | THROTTLED | RUNNING (progress 0..1) | SUCCEEDED (output[]) | FAILED (failure,
 * failureCode) | CANCELLED; DELETE /v1/tasks/{id} cancels. Poll no more often than every 5 s.
 * gen4_turbo is image-to-video only; Runway's ratios are pixel sizes, mapped from aspect ratios.
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
  readJson,
  redact,
  requireKey,
  toBase64,
  upstreamFetch,
} from "./upstream.ts";

const DEFAULT_BASE = "https://api.dev.runwayml.com";
const PROVIDER = "Runway";
export const RUNWAY_API_VERSION = "2024-11-06";
const TASK_ID = /^[0-9a-f-]{8,64}$/i;
/** Runway's limit for an image sent as a data URI (docs.dev.runwayml.com "API Input Parameters"). */
export const RUNWAY_DATA_URI_MAX = 5 * 1000 * 1000;
const RUNWAY_IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
/** Runway sells API credits at $0.01 each (docs.dev.runwayml.com pricing). */
export const RUNWAY_CENTS_PER_CREDIT = 1;

// Runway's ratio strings for Gen-4 models, by aspect ratio.
const RATIO_720P: Record<string, string> = {
  "16:9": "1280:720",
  "9:16": "720:1280",
  "1:1": "960:960",
  "4:3": "1104:832",
  "3:4": "832:1104",
  "21:9": "1584:672",
};
const RATIO_1080P: Record<string, string> = { "16:9": "1920:1080", "9:16": "1080:1920" };

interface Task {
  id?: string;
  status?: string;
  progress?: number;
  output?: string[];
  failure?: string;
  failureCode?: string;
  /** Final cost of a terminal task (SUCCEEDED, FAILED, CANCELLED); a credit is one cent. */
  cost?: { credits?: number };
}

/** Runway's final cost, when the task reports one. */
function runwayReported(task: Task): { reported?: ReportedUsage } {
  const credits = task.cost?.credits;
  return typeof credits === "number" && Number.isFinite(credits)
    ? { reported: { credits, costCents: credits * RUNWAY_CENTS_PER_CREDIT } }
    : {};
}

/** Runway's ratio for an aspect ratio and resolution; invalid combinations are refused early. */
export function runwayRatio(aspectRatio: string, resolution: string): string {
  const ratio = resolution === "1080p" ? RATIO_1080P[aspectRatio] : RATIO_720P[aspectRatio];
  if (!ratio) {
    throw new ProviderError(
      `Runway does not offer ${aspectRatio} at ${resolution}`,
      false,
    );
  }
  return ratio;
}

/**
 * promptImage as a data URI of the bytes the worker already fetched (and checked): Runway takes
 * only https URLs it can HEAD, its own uploads, or data URIs, so the user's URL is never passed.
 */
export function runwayImage(image: NonNullable<VideoRequest["image"]>): string {
  if (!image.bytes || !image.mimeType) {
    throw new ProviderError("Runway needs the input image's bytes to send it inline", false);
  }
  // Both refusals are retryable: another model of a models[] list may take the same image.
  if (!RUNWAY_IMAGE_TYPES.includes(image.mimeType)) {
    throw new ProviderError(
      `Runway takes JPEG, PNG or WebP input images, not ${image.mimeType}`,
      true,
    );
  }
  const uri = `data:${image.mimeType};base64,${toBase64(image.bytes)}`;
  if (uri.length > RUNWAY_DATA_URI_MAX) {
    throw new ProviderError(
      `The input image is too large for Runway: ${uri.length} bytes as a data URI, ` +
        `the limit is ${RUNWAY_DATA_URI_MAX}`,
      true,
    );
  }
  return uri;
}

/** The path and body of the task-creating call. */
export function runwayTask(model: string, req: VideoRequest): { path: string; body: object } {
  const body: Record<string, unknown> = {
    model,
    promptText: req.prompt,
    ratio: runwayRatio(req.aspectRatio, req.resolution),
    duration: req.duration,
  };
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.image) {
    body.promptImage = runwayImage(req.image);
    return { path: "/v1/image_to_video", body };
  }
  return { path: "/v1/text_to_video", body };
}

/** Maps a task to a poll result. */
export function runwayTaskResult(task: Task, secret: string): PollResult {
  switch (task.status) {
    case "PENDING":
    case "THROTTLED": // queued behind our concurrency limit: still on its way, not a failure
      return { status: "running" };
    case "RUNNING":
      return typeof task.progress === "number"
        ? { status: "running", progress: task.progress }
        : { status: "running" };
    case "SUCCEEDED": {
      const url = task.output?.find((u) => typeof u === "string");
      if (url) return { status: "succeeded", output: { url }, ...runwayReported(task) };
      return {
        status: "failed",
        message: "Runway returned no video",
        retryable: true,
        ...runwayReported(task),
      };
    }
    case "CANCELLED":
      return {
        status: "failed",
        message: "The Runway task was cancelled",
        retryable: false,
        ...runwayReported(task),
      };
    case "FAILED": {
      const code = task.failureCode ?? "";
      // Output moderation and Runway's internal faults may pass on another model; input errors will not.
      const retryable = code.startsWith("SAFETY.OUTPUT") || code.includes("INTERNAL");
      const said = task.failure ?? "no reason given";
      return {
        status: "failed",
        message: redact(`Runway could not generate the video: ${said}${code ? ` (${code})` : ""}`, [
          secret,
        ]),
        retryable,
        ...runwayReported(task),
      };
    }
    default:
      throw new ProviderError(`${PROVIDER} reported an unknown task status: ${task.status}`, true);
  }
}

function headers(secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}`, "x-runway-version": RUNWAY_API_VERSION };
}

function checkId(jobId: string) {
  if (!TASK_ID.test(jobId)) throw new ProviderError(`Not a Runway task id: ${jobId}`, false);
}

export const runwayProvider: ProviderAdapter = {
  id: "runway",
  name: "Runway",
  pollIntervalMs: 5_000,
  isConfigured: (env) => envString(env, "RUNWAYML_API_SECRET") !== undefined,

  async submit(upstreamModel, req, deps: ClockedDeps) {
    const secret = requireKey(deps.env, "RUNWAYML_API_SECRET", PROVIDER);
    const base = baseUrl(deps.env, "RUNWAYML_BASE_URL", DEFAULT_BASE);
    const { path, body } = runwayTask(upstreamModel, req);
    const call = { provider: PROVIDER, action: "starting the task", secret };
    const res = await upstreamFetch(deps, call, `${base}${path}`, {
      method: "POST",
      headers: { ...headers(secret), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const task = await readJson<Task>(res, call);
    if (typeof task.id !== "string" || !TASK_ID.test(task.id)) {
      throw new ProviderError(`${PROVIDER} did not return a task id`, false, res.status);
    }
    return { jobId: task.id };
  },

  async poll(jobId, deps: ClockedDeps) {
    const secret = requireKey(deps.env, "RUNWAYML_API_SECRET", PROVIDER);
    const base = baseUrl(deps.env, "RUNWAYML_BASE_URL", DEFAULT_BASE);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "checking the task", secret };
    const res = await upstreamFetch(deps, call, `${base}/v1/tasks/${jobId}`, {
      headers: headers(secret),
    });
    return runwayTaskResult(await readJson<Task>(res, call), secret);
  },

  async cancel(jobId, deps: ClockedDeps) {
    const secret = requireKey(deps.env, "RUNWAYML_API_SECRET", PROVIDER);
    const base = baseUrl(deps.env, "RUNWAYML_BASE_URL", DEFAULT_BASE);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "cancelling the task", secret };
    const res = await upstreamFetch(deps, call, `${base}/v1/tasks/${jobId}`, {
      method: "DELETE",
      headers: headers(secret),
    });
    await res.body?.cancel();
    return true; // a 2xx: the task or prediction is cancelled
  },
};
