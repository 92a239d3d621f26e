/**
 * Luma through the Dream Machine API (api.lumalabs.ai/dream-machine/v1).
 * Read 2026-11-27: docs.lumalabs.ai Dream Machine API reference and the `lumaai` SDK:
 * POST /dream-machine/v1/generations/video {prompt, model, resolution, duration "5s",
 * aspect_ratio, keyframes.frame0 {type:"image", url}} -> generation {id, state} (a plain
 * /generations only lists); GET .../generations/{id} -> queued | dreaming | completed
 * (assets.video) | failed (failure_reason); DELETE removes it. GET .../generations?limit&offset
 * lists the account's generations ({generations, has_more}), each with created_at and its
 * `request`: how a crashed submit's generation is found. LUMAAI_BASE_URL means what it
 * means to the SDK: the API root including /dream-machine/v1.
 * Luma also runs a newer "Agents API" (agents.lumalabs.ai, ray-3.2); this adapter uses Dream
 * Machine because LUMAAI_BASE_URL/LUMAAI_API_KEY address it and it still serves Ray 2.
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
  ORPHAN_PAGES,
  orphanTime,
  readJson,
  redact,
  requireKey,
  sentWith,
  upstreamFetch,
} from "./upstream.ts";

export const LUMA_DEFAULT_BASE = "https://api.lumalabs.ai/dream-machine/v1";
const PROVIDER = "Luma";
const GENERATION_ID = /^[0-9a-f-]{8,64}$/i;

interface Generation {
  id?: string;
  state?: string;
  failure_reason?: string | null;
  assets?: { video?: string | null } | null;
  created_at?: string;
  request?: unknown;
}

const LIST_LIMIT = 100;

/** The generation request body. */
export function lumaRequestBody(model: string, req: VideoRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    prompt: req.prompt,
    model,
    resolution: req.resolution,
    duration: `${req.duration}s`,
    aspect_ratio: req.aspectRatio,
  };
  if (req.image) body.keyframes = { frame0: { type: "image", url: req.image.url } };
  return body;
}

/** Maps a generation to a poll result. */
export function lumaGenerationResult(g: Generation, key: string): PollResult {
  switch (g.state) {
    case "queued":
    case "dreaming":
      return { status: "running" };
    case "completed": {
      const url = g.assets?.video;
      if (url) return { status: "succeeded", output: { url } };
      return { status: "failed", message: "Luma returned no video", retryable: true };
    }
    case "failed": {
      const said = g.failure_reason ?? "no reason given";
      // Moderation may pass on another model; a request Luma calls invalid will not.
      const badInput = /invalid|not supported|unsupported|must be/i.test(said) &&
        !/moderation/i.test(said);
      return {
        status: "failed",
        message: redact(`Luma could not generate the video: ${said}`, [key]),
        retryable: !badInput,
      };
    }
    default:
      throw new ProviderError(`${PROVIDER} reported an unknown state: ${g.state}`, true);
  }
}

/**
 * The API root from LUMAAI_BASE_URL. The old form (a bare origin, to which we appended
 * /dream-machine/v1) is refused with the fix spelled out: guessing would double the path of a
 * proxy that serves the SDK's layout at its root.
 */
export function lumaBase(env: ClockedDeps["env"]): string {
  const base = baseUrl(env, "LUMAAI_BASE_URL", LUMA_DEFAULT_BASE);
  if (lumaBaseIsOldForm(base)) {
    throw new ProviderError(
      `LUMAAI_BASE_URL=${base} is the old form: it now includes the API path, as in Luma's SDK ` +
        `(e.g. ${LUMA_DEFAULT_BASE})`,
      false,
    );
  }
  return base;
}

/** True for a LUMAAI_BASE_URL with no path (what the variable meant before it matched the SDK). */
export function lumaBaseIsOldForm(url: string): boolean {
  try {
    return new URL(url).pathname.replace(/\/+$/, "") === "";
  } catch {
    return false;
  }
}

function checkId(jobId: string) {
  if (!GENERATION_ID.test(jobId)) {
    throw new ProviderError(`Not a Luma generation id: ${jobId}`, false);
  }
}

export const lumaProvider: ProviderAdapter = {
  id: "luma",
  name: "Luma",
  pollIntervalMs: 5_000,
  isConfigured: (env) => envString(env, "LUMAAI_API_KEY") !== undefined,

  async submit(upstreamModel, req, deps: ClockedDeps) {
    const key = requireKey(deps.env, "LUMAAI_API_KEY", PROVIDER);
    const base = lumaBase(deps.env);
    const call = { provider: PROVIDER, action: "starting the generation", secret: key };
    const res = await upstreamFetch(deps, call, `${base}/generations/video`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(lumaRequestBody(upstreamModel, req)),
    });
    const g = await readJson<Generation>(res, call);
    if (typeof g.id !== "string" || !GENERATION_ID.test(g.id)) {
      throw new ProviderError(`${PROVIDER} did not return a generation id`, false, res.status);
    }
    return { jobId: g.id };
  },

  async poll(jobId, deps: ClockedDeps) {
    const key = requireKey(deps.env, "LUMAAI_API_KEY", PROVIDER);
    const base = lumaBase(deps.env);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "checking the generation", secret: key };
    const res = await upstreamFetch(deps, call, `${base}/generations/${jobId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return lumaGenerationResult(await readJson<Generation>(res, call), key);
  },

  // Dream Machine has no cancel: DELETE /generations/{id} removes the generation and says
  // nothing of stopping its bill, so a user's cancel of a running job is refused (409) instead.
  cancelDeletes: true,
  /** Deletes the generation (the documented way to drop it); used for deadlines and duplicates. */
  async cancel(jobId, deps: ClockedDeps) {
    const key = requireKey(deps.env, "LUMAAI_API_KEY", PROVIDER);
    const base = lumaBase(deps.env);
    checkId(jobId);
    const call = { provider: PROVIDER, action: "deleting the generation", secret: key };
    const res = await upstreamFetch(deps, call, `${base}/generations/${jobId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${key}` },
    });
    await res.body?.cancel();
    return true;
  },

  /** Generations made with this request body since the attempt, not failed. */
  async findOrphan(upstreamModel, req, sinceMs, deps: ClockedDeps) {
    const key = requireKey(deps.env, "LUMAAI_API_KEY", PROVIDER);
    const base = lumaBase(deps.env);
    const body = lumaRequestBody(upstreamModel, req);
    const call = { provider: PROVIDER, action: "listing generations", secret: key };
    const found: { id: string; at: number }[] = [];
    for (let page = 0; page < ORPHAN_PAGES; page++) {
      const url = `${base}/generations?limit=${LIST_LIMIT}&offset=${page * LIST_LIMIT}`;
      const res = await upstreamFetch(deps, call, url, {
        headers: { authorization: `Bearer ${key}` },
      });
      const list = await readJson<{ generations?: Generation[]; has_more?: boolean }>(res, call);
      const gens = list.generations ?? [];
      for (const g of gens) {
        const at = orphanTime(g.created_at, sinceMs);
        if (
          at !== null && typeof g.id === "string" && GENERATION_ID.test(g.id) &&
          g.state !== "failed" && sentWith(g.request, body)
        ) found.push({ id: g.id, at });
      }
      // Newest first: a page that reaches past the window is the last one that can match.
      if (!list.has_more || gens.some((g) => orphanTime(g.created_at, sinceMs) === null)) break;
    }
    return found.sort((a, b) => a.at - b.at).map((f) => f.id);
  },
};
