/**
 * fal.ai queue API (queue.fal.run) for the fal-hosted Kling, MiniMax Hailuo, Wan, Seedance and Veo.
 * Read 2026-11-27: docs.fal.ai "Queue" + "Error reference" and @fal-ai/client's queue client:
 * POST /{endpoint} (Authorization: Key …) -> {request_id, status_url, response_url, cancel_url};
 * GET status_url -> IN_QUEUE | IN_PROGRESS | COMPLETED; GET response_url -> the model's output
 * ({video:{url}}) or an error {detail:[{loc,msg,type}]} with X-Fal-Retryable; PUT cancel_url.
 * A route names the text-to-video endpoint; with an image the adapter calls its image-to-video twin.
 */
import {
  type PollResult,
  type ProviderAdapter,
  ProviderError,
  type VideoRequest,
} from "./types.ts";
import {
  baseUrl,
  type ClockedDeps,
  envString,
  errorFromResponse,
  mappedInput,
  readJson,
  redact,
  requireKey,
  sameOrigin,
  upstreamFetch,
} from "./upstream.ts";

const DEFAULT_BASE = "https://queue.fal.run";
const PROVIDER = "fal.ai";

/** What the jobId holds: the URLs the queue handed back (they differ from the endpoint path). */
interface FalJob {
  id: string;
  status: string;
  response: string;
  cancel: string;
}

interface FalStatus {
  status?: string;
  queue_position?: number;
  error?: string;
  error_type?: string;
}

/** The endpoint to call: the image-to-video twin of a text-to-video endpoint when an image is given. */
export function falEndpoint(upstreamModel: string, hasImage: boolean): string {
  if (!hasImage) return upstreamModel;
  if (upstreamModel.endsWith("/text-to-video")) {
    return upstreamModel.replace(/\/text-to-video$/, "/image-to-video");
  }
  return `${upstreamModel}/image-to-video`;
}

/**
 * The optional fields each endpoint's input type has (@fal-ai/client 1.10.1's EndpointTypeMap),
 * the name of its image field, its switch for prompt rewriting (default true upstream, so always
 * sent: `enhance_prompt` decides) and whether its aspect_ratio takes "auto" (follow the image,
 * the SDK's default there). A field an endpoint lacks is never sent: the catalog's route modes
 * refuse such requests before they get here.
 */
interface FalSchema {
  fields: string[];
  image?: string;
  /** Veo31Input.auto_fix, Wan25Preview*.enable_prompt_expansion, Hailuo02*.prompt_optimizer. */
  rewrite?: "auto_fix" | "enable_prompt_expansion" | "prompt_optimizer";
  /** aspect_ratio accepts "auto" (Veo31ImageToVideoInput, BytedanceSeedanceV1ProImageToVideo). */
  autoAspect?: true;
}

const FAL_FIELDS: [RegExp, FalSchema][] = [
  [/\/veo3[^/]*(\/fast|\/lite)?\/image-to-video$/, {
    fields: ["aspect_ratio", "resolution", "generate_audio", "negative_prompt", "seed"],
    image: "image_url",
    rewrite: "auto_fix",
    autoAspect: true,
  }],
  [/\/veo3/, {
    fields: ["aspect_ratio", "resolution", "generate_audio", "negative_prompt", "seed"],
    rewrite: "auto_fix",
  }],
  // Kling 2.6 and 3.0: sound, and the image twin's start_image_url without aspect_ratio.
  [/kling-video\/(v3|v2\.6)\/.*\/image-to-video$/, {
    fields: ["generate_audio", "negative_prompt"],
    image: "start_image_url",
  }],
  [/kling-video\/(v3|v2\.6)\//, { fields: ["aspect_ratio", "generate_audio", "negative_prompt"] }],
  [/kling-video\/.*\/image-to-video$/, { fields: ["negative_prompt"], image: "image_url" }],
  [/kling-video\//, { fields: ["aspect_ratio", "negative_prompt"] }],
  [/minimax\/.*\/image-to-video$/, {
    fields: [],
    image: "image_url",
    rewrite: "prompt_optimizer",
  }],
  [/minimax\//, { fields: [], rewrite: "prompt_optimizer" }],
  [/wan-25-preview\/image-to-video$/, {
    fields: ["resolution", "negative_prompt", "seed"],
    image: "image_url",
    rewrite: "enable_prompt_expansion",
  }],
  [/wan-25-preview\//, {
    fields: ["aspect_ratio", "resolution", "negative_prompt", "seed"],
    rewrite: "enable_prompt_expansion",
  }],
  [/seedance\/v1\.5\/.*\/image-to-video$/, {
    fields: ["aspect_ratio", "resolution", "seed", "generate_audio"],
    image: "image_url",
    autoAspect: true,
  }],
  [/seedance\/v1\.5\//, { fields: ["aspect_ratio", "resolution", "seed", "generate_audio"] }],
  [/seedance\/.*\/image-to-video$/, {
    fields: ["aspect_ratio", "resolution", "seed"],
    image: "image_url",
    autoAspect: true,
  }],
  [/seedance\//, { fields: ["aspect_ratio", "resolution", "seed"] }],
];

/** The model input for an endpoint (already the image-to-video twin when there is an image). */
export function falInput(endpoint: string, req: VideoRequest): Record<string, unknown> {
  const schema = FAL_FIELDS.find(([re]) => re.test(endpoint))?.[1];
  if (!schema) throw new ProviderError(`No fal.ai input schema for ${endpoint}`, false);
  const veo = endpoint.includes("/veo");
  // An aspect ratio nobody asked for is not forced on an image: the video follows its shape.
  const followImage = req.image !== undefined && req.aspectRatioDefault === true &&
    schema.autoAspect === true;
  const wanted: Record<string, unknown> = {
    aspect_ratio: followImage ? "auto" : req.aspectRatio,
    resolution: req.resolution,
    // Audio changes the bill: said on every endpoint that has it, the same way it is priced.
    generate_audio: req.audio === true,
    negative_prompt: req.negativePrompt || undefined,
    seed: req.seed,
  };
  const input: Record<string, unknown> = {
    prompt: req.prompt,
    duration: veo ? `${req.duration}s` : String(req.duration),
  };
  for (const f of schema.fields) if (wanted[f] !== undefined) input[f] = wanted[f];
  // The provider rewrites prompts only when the caller said it may.
  if (schema.rewrite) input[schema.rewrite] = req.enhancePrompt === true;
  if (req.image) {
    if (!schema.image) throw new ProviderError(`${endpoint} takes no image`, false);
    input[schema.image] = req.image.url;
  }
  return input;
}

function parseJob(jobId: string, base: string): FalJob {
  let job: FalJob;
  try {
    job = JSON.parse(jobId);
  } catch {
    throw new ProviderError(`Not a fal.ai job id: ${jobId.slice(0, 80)}`, false);
  }
  // The key is sent to these URLs, so they must point at the configured queue host.
  for (const u of [job.status, job.response, job.cancel]) {
    if (typeof u !== "string" || !sameOrigin(u, base)) {
      throw new ProviderError("fal.ai job URLs do not point at FAL_QUEUE_URL", false);
    }
  }
  return job;
}

/** Turns the result call's error into a final failure (the queue said COMPLETED). */
async function failedResult(res: Response, key: string, now: number): Promise<PollResult> {
  const retryHeader = res.headers.get("x-fal-retryable");
  const text = await res.clone().text().catch(() => "");
  const err = await errorFromResponse(res, {
    provider: PROVIDER,
    action: "fetching the result",
    secret: key,
  }, now);
  if (res.status === 429) throw err; // ask again later; the result is still there
  const moderated = text.includes("content_policy_violation");
  if (res.status === 404 || res.status === 410) {
    return {
      status: "failed",
      message: `${err.message} (the result has expired)`,
      retryable: false,
    };
  }
  const retryable = moderated || res.status >= 500 || retryHeader === "true";
  return {
    status: "failed",
    message: err.message,
    retryable,
    ...(moderated ? { code: "content_moderated" as const } : {}),
  };
}

export const falProvider: ProviderAdapter = {
  id: "fal",
  name: "fal.ai",
  pollIntervalMs: 5_000,
  isConfigured: (env) => envString(env, "FAL_KEY") !== undefined,

  async submit(upstreamModel, req, deps: ClockedDeps, mapped) {
    const key = requireKey(deps.env, "FAL_KEY", PROVIDER);
    const base = baseUrl(deps.env, "FAL_QUEUE_URL", DEFAULT_BASE);
    const endpoint = falEndpoint(upstreamModel, req.image !== undefined);
    const call = { provider: PROVIDER, action: "queueing the video", secret: key };
    // An operator route says its own fields; fal's endpoints mostly type durations as strings.
    const input = mapped ? mappedInput(req, mapped, "string") : falInput(endpoint, req);
    const res = await upstreamFetch(deps, call, `${base}/${endpoint}`, {
      method: "POST",
      headers: { authorization: `Key ${key}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const q = await readJson<Record<string, unknown>>(res, call);
    const job = {
      id: q.request_id,
      status: q.status_url,
      response: q.response_url,
      cancel: q.cancel_url,
    };
    if (typeof job.id !== "string" || typeof job.status !== "string") {
      throw new ProviderError(`${PROVIDER} did not return a request id`, false, res.status);
    }
    return { jobId: JSON.stringify(job) };
  },

  async poll(jobId, deps: ClockedDeps) {
    const key = requireKey(deps.env, "FAL_KEY", PROVIDER);
    const job = parseJob(jobId, baseUrl(deps.env, "FAL_QUEUE_URL", DEFAULT_BASE));
    const headers = { authorization: `Key ${key}` };
    const call = { provider: PROVIDER, action: "checking the queue", secret: key };
    const st = await readJson<FalStatus>(
      await upstreamFetch(deps, call, job.status, { headers }),
      call,
    );
    if (st.status === "IN_QUEUE" || st.status === "IN_PROGRESS") return { status: "running" };
    if (st.status !== "COMPLETED") {
      throw new ProviderError(`${PROVIDER} reported an unknown status: ${st.status}`, true);
    }
    if (st.error) {
      const moderated = st.error_type === "content_policy_violation";
      return {
        status: "failed",
        message: redact(`fal.ai generation failed: ${st.error}`, [key]),
        retryable: moderated || st.error_type === "internal_server_error",
        ...(moderated ? { code: "content_moderated" as const } : {}),
      };
    }
    let res: Response;
    try {
      res = await deps.fetch(job.response, { headers });
    } catch (err) {
      throw new ProviderError(
        redact(`${PROVIDER} could not be reached while fetching the result: ${err}`, [key]),
        true,
      );
    }
    if (!res.ok) return await failedResult(res, key, deps.now?.() ?? Date.now());
    // fal bills in the endpoint's priced unit and says how many on the result (reconciliation).
    const units = Number(res.headers.get("x-fal-billable-units") ?? NaN);
    const reported = Number.isFinite(units) ? { reported: { billableUnits: units } } : {};
    const result = await readJson<{ video?: { url?: string } }>(res, call);
    const url = result.video?.url;
    if (!url) return { status: "failed", message: "fal.ai returned no video", retryable: true };
    return { status: "succeeded", output: { url }, ...reported };
  },

  async cancel(jobId, deps: ClockedDeps) {
    const key = requireKey(deps.env, "FAL_KEY", PROVIDER);
    const job = parseJob(jobId, baseUrl(deps.env, "FAL_QUEUE_URL", DEFAULT_BASE));
    const call = { provider: PROVIDER, action: "cancelling", secret: key };
    try {
      const res = await upstreamFetch(deps, call, job.cancel, {
        method: "PUT",
        headers: { authorization: `Key ${key}` },
      });
      // 202 CANCELLATION_REQUESTED: the job was still queued, and leaves the queue unrun.
      await res.body?.cancel();
      return true;
    } catch (err) {
      // 400 ALREADY_COMPLETED: started or finished; fal only cancels queued requests.
      if (err instanceof ProviderError && err.status === 400) return false;
      throw err;
    }
  },
};
