import {
  type AskedOptions,
  type Cents,
  type Model,
  MODELS,
  rankRoutes,
  routeRefusal,
} from "../catalog/mod.ts";
import { assertWebhookUrlAcceptable } from "../webhooks/url_policy.ts";
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import type { FailureCode, ProviderId, VideoRequest } from "../providers/types.ts";
import { getBalance } from "../db/ledger.ts";
import {
  type Candidate,
  type GenerationOptions,
  type GenerationRecord,
  getGeneration,
  isTerminal,
  listGenerations,
} from "../db/generations.ts";
import { withTimeouts } from "../providers/faults.ts";
import { hashBody } from "../db/idempotency.ts";
import { getDailyUsage, getUsageTotals } from "../db/usage.ts";
import { signVideoUrl } from "../storage/mod.ts";
import { usageByKey } from "../spend/usage.ts";
import { DEFAULT_DEADLINE_MS, type GenerationDeps, logOf } from "./deps.ts";
import type { GenerationInput } from "./schema.ts";
import { cancelPlan, updateGeneration } from "./transitions.ts";
import {
  type BatchTuning,
  type CreatedGeneration,
  submissionBytes,
  submitCharged,
} from "./batch.ts";

export { getGeneration, listGenerations };

export type { CreatedGeneration };

export interface CreateContext {
  apiKeyId?: string | null;
  idempotencyKey?: string | null;
  applicationName?: string | null;
}

export function toVideoRequest(o: GenerationOptions): VideoRequest {
  return {
    prompt: o.prompt,
    duration: o.duration,
    resolution: o.resolution,
    aspectRatio: o.aspect_ratio,
    ...(o.image_url ? { image: { url: o.image_url } } : {}),
    ...(o.negative_prompt !== undefined ? { negativePrompt: o.negative_prompt } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.audio !== undefined ? { audio: o.audio } : {}),
    ...(o.aspect_ratio_default ? { aspectRatioDefault: true } : {}),
    ...(o.enhance_prompt ? { enhancePrompt: true } : {}),
  };
}

/** Resolves options with the first model's defaults and checks them against every model. */
export function resolveOptions(input: GenerationInput, models: Model[]): GenerationOptions {
  const d = models[0].capabilities.defaults;
  const o: GenerationOptions = {
    prompt: input.prompt,
    duration: input.duration ?? d.duration,
    resolution: input.resolution ?? d.resolution,
    aspect_ratio: input.aspectRatio ?? d.aspectRatio,
    ...(input.aspectRatio === undefined ? { aspect_ratio_default: true as const } : {}),
    ...(input.enhancePrompt ? { enhance_prompt: true as const } : {}),
  };
  for (const m of models) {
    const c = m.capabilities;
    const list = (xs: unknown[]) => xs.join(", ");
    if (!c.durations.includes(o.duration)) {
      throw new BadRequest(
        `${m.slug} supports durations ${list(c.durations)} seconds, not ${o.duration}`,
        "duration",
        "unsupported_option",
      );
    }
    if (!c.resolutions.includes(o.resolution)) {
      throw new BadRequest(
        `${m.slug} supports resolutions ${list(c.resolutions)}, not ${o.resolution}`,
        "resolution",
        "unsupported_option",
      );
    }
    if (!c.aspectRatios.includes(o.aspect_ratio)) {
      throw new BadRequest(
        `${m.slug} supports aspect ratios ${list(c.aspectRatios)}, not ${o.aspect_ratio}`,
        "aspect_ratio",
        "unsupported_option",
      );
    }
    if (input.imageUrl && !c.imageInput) {
      throw new BadRequest(`${m.slug} does not take an image`, "image_url", "unsupported_option");
    }
    if (!input.imageUrl && c.imageRequired) {
      throw new BadRequest(`${m.slug} needs image_url`, "image_url", "unsupported_option");
    }
  }
  // An extra the caller asked for is honoured by every model or refused, never dropped.
  const lacking = (has: (c: Model["capabilities"]) => boolean) =>
    models.find((m) => !has(m.capabilities))?.slug;
  const refuse = (slug: string | undefined, what: string, param: string) => {
    if (slug) throw new BadRequest(`${slug} does not take ${what}`, param, "unsupported_option");
  };
  if (input.imageUrl) o.image_url = input.imageUrl;
  if (input.negativePrompt) {
    refuse(lacking((c) => c.negativePrompt), "a negative prompt", "negative_prompt");
    o.negative_prompt = input.negativePrompt;
  }
  if (input.seed !== undefined) {
    refuse(lacking((c) => c.seed), "a seed", "seed");
    o.seed = input.seed;
  }
  if (input.audio === true) refuse(lacking((c) => c.audio), "audio", "audio");
  // Said audio goes to every route (one that cannot honour it is skipped); the first model's
  // default applies only where every model can make sound. Either way price and request agree
  // on every route (see audioOn in catalog.ts).
  if (input.audio !== undefined) o.audio = input.audio;
  else if (d.audio !== undefined && models.every((m) => m.capabilities.audio)) o.audio = d.audio;
  return o;
}

/**
 * Every model + route the generation may run on, in the order they are tried: each model's
 * routes (see rankRoutes) before the next model of models[]. A retryable failure before any
 * video exists moves to the next candidate, so a model with several configured routes fails
 * over to its other hosts first; a pinned provider leaves one route per model.
 */
export function planCandidates(
  deps: GenerationDeps,
  input: GenerationInput,
): { options: GenerationOptions; candidates: Candidate[] } {
  const catalog = deps.models ?? MODELS;
  const param = input.models.length > 1 ? "models" : "model";
  const models = input.models.map((slug) => {
    const m = catalog.find((x) => x.slug === slug);
    if (!m) throw new BadRequest(`Unknown model ${slug}`, param, "model_not_found");
    return m;
  });
  const options = resolveOptions(input, models);
  const req = toVideoRequest(options);
  const asked: AskedOptions = {
    aspectRatio: input.aspectRatio !== undefined,
    audio: input.audio !== undefined,
  };
  const now = deps.now();
  const configured = (p: ProviderId) => !!deps.adapters[p];
  const candidates: Candidate[] = models.flatMap((m) =>
    rankRoutes(m, req, input.provider, configured, deps.margin, asked, now).map((r) => ({
      model: m.slug,
      provider: r.route.provider,
      upstream_model: r.route.upstreamModel,
      price_cents: r.price,
    }))
  );
  if (candidates.length === 0) {
    // Configured routes exist but none honours an option as asked: name that option.
    const refusal = models.flatMap((m) =>
      m.routes.filter((r) =>
        configured(r.provider) &&
        (typeof input.provider !== "string" || r.provider === input.provider)
      ).map((r) => ({
        m,
        r,
        param: routeRefusal(r, req, asked, now),
      }))
    ).find((x) => x.param && x.param !== "model");
    if (refusal?.param) {
      throw new BadRequest(
        `No configured route of ${refusal.m.slug} honours ${refusal.param} as asked ` +
          `(${refusal.r.provider} does not); leave it out or pick another model`,
        refusal.param,
        "unsupported_option",
      );
    }
    throw new BadRequest(
      input.provider
        ? `No configured provider matching ${JSON.stringify(input.provider)} serves ${
          input.models.join(", ")
        } with these options`
        : `${input.models.join(", ")} is not available: no configured provider serves it`,
      input.provider ? "provider" : param,
      "model_unavailable",
    );
  }
  return { options, candidates };
}

/**
 * Validates, prices and charges a generation, then writes it as pending with its submit job:
 * ONE atomic commit, shared with the org's other submissions of the moment (see batch.ts).
 * Charges the most expensive candidate; the worker settles on completion. Insufficient credits
 * throws InsufficientCredits and writes nothing.
 */
export async function createGeneration(
  deps: GenerationDeps & { submitBatch?: BatchTuning },
  orgId: string,
  input: GenerationInput,
  ctx: CreateContext = {},
): Promise<CreatedGeneration> {
  // Refused up front, from the URL alone, rather than failing a day of delivery retries later.
  if (input.webhookUrl) {
    assertWebhookUrlAcceptable(input.webhookUrl, { allowPrivate: deps.allowPrivateUrls ?? false });
  }
  const { options, candidates } = planCandidates(deps, input);
  const cost = Math.max(...candidates.map((c) => c.price_cents));
  const idempotencyKey = ctx.idempotencyKey || null;
  const bodyHash = idempotencyKey ? hashBody(input) : "";
  const build = (id: string, now: number): GenerationRecord => ({
    id,
    org_id: orgId,
    api_key_id: ctx.apiKeyId ?? null,
    status: "pending",
    model: candidates[0].model,
    options,
    candidates,
    attempt: 0,
    attempts: [],
    charged_cents: cost,
    cost_cents: null,
    refunded_cents: 0,
    provider_job_id: null,
    submit_claimed_at: null,
    tick: 0,
    poll_count: 0,
    next_check_at: now,
    deadline_at: now + (deps.deadlineMs ?? DEFAULT_DEADLINE_MS),
    output: null,
    latency_ms: null,
    error_message: null,
    application_name: ctx.applicationName ?? null,
    metadata: input.metadata ?? null,
    webhook_url: input.webhookUrl ?? null,
    idempotency_key: idempotencyKey,
    created_at: now,
    updated_at: now,
    completed_at: null,
  });
  return await submitCharged(deps, orgId, {
    cost,
    apiKeyId: ctx.apiKeyId ?? null,
    idempotencyKey,
    bodyHash,
    reason: `Generation on ${candidates.map((c) => c.model).join(" → ")}`,
    bytes: submissionBytes(build("gen_00000000000000000000000000", 0)),
    build,
  });
}

/**
 * Cancels a generation, refunding it in the same commit, when nothing runs upstream that the
 * operator would pay for (API.md, "Cancel"): a pending one (never sent, or its submit still in
 * flight, which the submit worker then stops), or a processing one whose provider confirms the
 * job stopped. A running job its provider cannot stop is a Conflict `not_cancellable` (it
 * completes and is paid for); an ended one is a Conflict `generation_finished`.
 */
export async function cancelGeneration(
  deps: GenerationDeps,
  orgId: string,
  id: string,
): Promise<GenerationRecord> {
  // A submit may land between the read and the commit: then the new job is stopped in turn.
  for (let round = 0; round < 3; round++) {
    const g0 = await getGeneration(deps.kv, orgId, id);
    if (isTerminal(g0)) {
      throw new Conflict(`Generation ${id} is already ${g0.status}`, "generation_finished");
    }
    const stoppedJob = g0.status === "processing" ? await stopUpstreamJob(deps, g0) : null;
    const res = await updateGeneration(
      deps,
      id,
      (g) =>
        g.status === "pending" || (g.status === "processing" && g.provider_job_id === stoppedJob)
          ? cancelPlan(deps.now())(g)
          : null,
      20,
    );
    if (res.committed) return res.committed;
    if (!res.current) throw new NotFound(`No generation ${id}`, "id");
  }
  throw new Conflict(`Generation ${id} changed while cancelling; try again`, "conflict");
}

/** Asks the provider to stop a running job; its id once confirmed stopped, else not_cancellable. */
async function stopUpstreamJob(deps: GenerationDeps, g: GenerationRecord): Promise<string> {
  const { provider } = g.candidates[g.attempt];
  const adapter = deps.adapters[provider];
  const jobId = g.provider_job_id;
  let stopped = false;
  if (jobId && adapter?.cancel && !adapter.cancelDeletes) {
    stopped = await adapter.cancel(jobId, withTimeouts(deps.providerDeps, provider)).catch(
      (err) => {
        logOf(deps)(`generation ${g.id}: upstream cancel failed`, err);
        return false;
      },
    );
  }
  if (!stopped || !jobId) {
    throw new Conflict(
      `Generation ${g.id} is already running on ${provider}, which cannot stop it now; ` +
        "it will complete and is charged",
      "not_cancellable",
    );
  }
  return jobId;
}

/** The compat JSON of GET /v1/video/generations/{id}. */
export interface ApiGeneration {
  id: string;
  status: GenerationRecord["status"];
  model: string;
  output_url: string | null;
  cost_cents: Cents | null;
  latency_ms: number | null;
  error_message: string | null;
  /** Why it failed or was cancelled (API.md, "Failure reasons"); null otherwise. */
  error: { code: FailureCode; message: string } | null;
  created_at: number;
  completed_at: number | null;
  metadata?: Record<string, string>;
  output_expired?: true;
}

export type SignVideoUrl = typeof signVideoUrl;

const URL_LIFETIME_SEC = 3600;
const toSec = (ms: number) => Math.floor(ms / 1000);

/**
 * Shapes a record for the API: seconds, and a signed output URL. The expiry is rounded up to the
 * hour so the URL stays the same across polls within the hour.
 */
export async function toApiGeneration(
  g: GenerationRecord,
  opts: { publicUrl: string; secretKey: string; nowMs: number; signUrl?: SignVideoUrl },
): Promise<ApiGeneration> {
  const expires = Math.ceil((toSec(opts.nowMs) + URL_LIFETIME_SEC) / 3600) * 3600;
  return {
    id: g.id,
    status: g.status,
    model: g.model,
    output_url: g.status === "completed" && g.output
      ? await (opts.signUrl ?? signVideoUrl)(opts.publicUrl, opts.secretKey, g.id, expires)
      : null,
    cost_cents: g.cost_cents,
    latency_ms: g.latency_ms,
    error_message: g.error_message,
    error: apiError(g),
    created_at: toSec(g.created_at),
    completed_at: g.completed_at === null ? null : toSec(g.completed_at),
    ...(g.metadata ? { metadata: g.metadata } : {}),
    // The retention sweep deleted the video (VIDEO_RETENTION_DAYS): additive to the compat shape.
    ...(g.output_expired_at ? { output_expired: true } : {}),
  };
}

/** The failure reason of a failed or cancelled generation (records before codes read by status). */
function apiError(g: GenerationRecord): ApiGeneration["error"] {
  if (g.status === "cancelled") {
    return { code: "cancelled", message: g.error_message ?? "The generation was cancelled" };
  }
  if (g.status !== "failed") return null;
  return { code: g.error_code ?? "provider_error", message: g.error_message ?? "It failed" };
}

/** The compat /v1/usage object, plus the additive `by_key` (spend and requests per key). */
export async function getUsage(kv: Deno.Kv, orgId: string, nowMs: number) {
  const [credit_balance, totals, daily_usage, recent, by_key] = await Promise.all([
    getBalance(kv, orgId),
    getUsageTotals(kv, orgId),
    getDailyUsage(kv, orgId, 30),
    listGenerations(kv, orgId, { limit: 10 }),
    usageByKey(kv, orgId, nowMs),
  ]);
  return {
    credit_balance,
    totals,
    daily_usage,
    recent_requests: recent.data.map((g) => ({
      id: g.id,
      status: g.status,
      model_name: g.model,
      cost_cents: g.cost_cents,
      latency_ms: g.latency_ms,
      created_at: toSec(g.created_at),
      completed_at: g.completed_at === null ? null : toSec(g.completed_at),
      ...(g.output_expired_at ? { output_expired: true as const } : {}),
    })),
    by_key,
  };
}
