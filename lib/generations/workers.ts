import { type GenerationRecord, isTerminal, loadGeneration } from "../db/generations.ts";
import { enqueueInAtomic, type Job, type JobHandler } from "../jobs.ts";
import {
  type PollResult,
  type ProviderAdapter,
  ProviderError,
  type ReportedUsage,
  type VideoRequest,
} from "../providers/types.ts";
import { type GenerationDeps, logOf } from "./deps.ts";
import { fetchInputImage, ImageFetchError } from "./image.ts";
import { cancelSignal } from "./cancel_signal.ts";
import { toVideoRequest } from "./service.ts";
import { underchargeMessage, withReportedUsage } from "../providers/reconcile.ts";
import {
  completePlan,
  deadlinePlan,
  failPlan,
  fallbackOrFailPlan,
  type Plan,
  updateGeneration,
} from "./transitions.ts";

/**
 * The generation workers: `generation.submit` and `generation.poll` jobs. Delivery is at least
 * once and the sweep may add duplicates, so each handler re-reads the record and acts only when
 * the record says this step is still due; every write is checked against the version it read.
 */

export const SUBMIT_JOB = "generation.submit";
export const POLL_JOB = "generation.poll";

/** How long a submit claim holds off duplicate deliveries; after it the submit is retried. */
export const SUBMIT_CLAIM_MS = 5 * 60_000;
/** For adapters whose repeated submit costs nothing upstream (the local model). */
export const SAFE_RESUBMIT_CLAIM_MS = 20_000;

/**
 * How long a submission claim holds: long for paid upstreams (a retry while the first attempt is
 * merely slow could start a second paid job), short where a repeat is harmless.
 */
export function submitClaimMs(adapter: ProviderAdapter | undefined): number {
  return adapter?.resubmitSafe ? SAFE_RESUBMIT_CLAIM_MS : SUBMIT_CLAIM_MS;
}
/**
 * How long a claimed download of a finished video holds off the sweep: longer than the storage
 * download timeout (10 minutes, lib/services.ts), so only a download that hung is stepped in on.
 */
export const STORE_CLAIM_MS = 11 * 60_000;
/** A poll delivered this much before its time is a leftover of an older schedule: dropped. */
const EARLY_SLACK_MS = 500;
const MAX_POLL_DELAY_MS = 30_000;

export function pollDelayMs(adapter: ProviderAdapter, pollCount: number, retryAfterMs?: number) {
  const base = adapter.pollIntervalMs;
  const backedOff = Math.min(base * 1.25 ** pollCount, Math.max(base, MAX_POLL_DELAY_MS));
  return Math.round(Math.max(backedOff, retryAfterMs ?? 0));
}

const enqueue = (type: string, id: string, delayMs = 0) => (a: Deno.AtomicOperation) =>
  enqueueInAtomic(a, { type, id }, { delayMs });

function providerMessage(
  g: GenerationRecord,
  err: unknown,
): { message: string; retryable: boolean } {
  const cand = g.candidates[g.attempt];
  if (err instanceof ProviderError) {
    return {
      message: `${cand.model} via ${cand.provider}: ${err.message}`,
      retryable: err.retryable,
    };
  }
  return {
    message: `${cand.model} via ${cand.provider}: the provider request failed`,
    retryable: false,
  };
}

/**
 * The request for the adapter. With an image_url the image is fetched here (SSRF-guarded, capped,
 * checked to be an image), so adapters that need inline bytes (Gemini) have them; the others
 * send the URL on.
 */
async function videoRequestFor(deps: GenerationDeps, g: GenerationRecord): Promise<VideoRequest> {
  const req = toVideoRequest(g.options);
  if (!req.image) return req;
  const fetchImage = deps.fetchImage ??
    ((url: string) =>
      fetchInputImage(url, {
        allowPrivate: deps.allowPrivateUrls ?? false,
        fetch: deps.providerDeps.fetch,
      }));
  return { ...req, image: { url: req.image.url, ...await fetchImage(req.image.url) } };
}

/** Submits the current candidate upstream: pending → processing. */
export async function submitGeneration(deps: GenerationDeps, id: string): Promise<void> {
  const entry = await loadGeneration(deps.kv, id);
  if (!entry || entry.value.status !== "pending") return;
  const now = deps.now();
  if (now >= entry.value.deadline_at) {
    await updateGeneration(deps, id, deadlinePlan(now));
    return;
  }
  const g0 = entry.value;
  const cand = g0.candidates[g0.attempt];
  const adapter = deps.adapters[cand.provider];
  const claimMs = submitClaimMs(adapter);
  if (g0.submit_claimed_at !== null && now - g0.submit_claimed_at < claimMs) {
    // Another delivery holds the claim (or held it when its process died): look again when it
    // expires, rather than leave a crashed submission to the minute sweep.
    const retryIn = g0.submit_claimed_at + claimMs - now + 1_000;
    await enqueueInAtomic(deps.kv.atomic(), { type: SUBMIT_JOB, id }, { delayMs: retryIn })
      .commit();
    return;
  }

  // Claim the submission so a duplicate delivery does not start a second paid upstream job.
  const claim = await updateGeneration(
    deps,
    id,
    (g): Plan | null =>
      g.status !== "pending" || g.attempt !== g0.attempt || g.tick !== g0.tick ||
        (g.submit_claimed_at !== null && now - g.submit_claimed_at < claimMs)
        ? null
        : {
          next: {
            ...g,
            submit_claimed_at: now,
            tick: g.tick + 1,
            next_check_at: Math.min(now + claimMs, g.deadline_at),
            attempts: [...g.attempts, {
              model: cand.model,
              provider: cand.provider,
              upstream_job_id: null,
              started_at: now,
              ended_at: null,
              error: null,
            }],
            updated_at: now,
          },
        },
    1,
  );
  const claimed = claim.committed;
  if (!claimed) return;
  const expect = (g: GenerationRecord) =>
    g.status === "pending" && g.attempt === claimed.attempt && g.submit_claimed_at === now;

  let jobId: string;
  try {
    if (!adapter) throw new ProviderError(`provider ${cand.provider} is not configured`, true);
    const req = await videoRequestFor(deps, g0);
    const ended = cancelSignal(deps.kv, id);
    try {
      const providerDeps = { ...deps.providerDeps, signal: ended.signal };
      jobId = (await adapter.submit(cand.upstream_model, req, providerDeps)).jobId;
    } finally {
      ended.stop();
    }
  } catch (err) {
    const known = err instanceof ProviderError || err instanceof ImageFetchError;
    if (!known) logOf(deps)(`generation ${id}: submit failed`, err);
    const { message, retryable } = err instanceof ImageFetchError
      ? { message: err.message, retryable: err.retryable }
      : providerMessage(claimed, err);
    const t = deps.now();
    await updateGeneration(
      deps,
      id,
      fallbackOrFailPlan(expect, message, retryable, t, enqueue(SUBMIT_JOB, id)),
    );
    return;
  }

  const t = deps.now();
  const delay = pollDelayMs(adapter, 0);
  const res = await updateGeneration(deps, id, (g): Plan | null =>
    !expect(g) ? null : {
      next: {
        ...g,
        status: "processing",
        provider_job_id: jobId,
        submit_claimed_at: null,
        poll_count: 0,
        tick: g.tick + 1,
        next_check_at: Math.min(t + delay, g.deadline_at),
        attempts: g.attempts.map((a, i) =>
          i === g.attempts.length - 1 ? { ...a, upstream_job_id: jobId } : a
        ),
        updated_at: t,
      },
      apply: enqueue(POLL_JOB, id, delay),
    });
  if (!res.committed && res.current && isTerminal(res.current) && adapter.cancel) {
    // Cancelled while we were submitting: stop the upstream job we just started.
    await adapter.cancel(jobId, deps.providerDeps).catch((err) =>
      logOf(deps)(`generation ${id}: upstream cancel failed`, err)
    );
  }
}

/** Asks the provider for the job's state; stores the video and completes, or fails, or waits. */
export async function pollGeneration(deps: GenerationDeps, id: string): Promise<void> {
  const entry = await loadGeneration(deps.kv, id);
  if (!entry || entry.value.status !== "processing") return;
  const g0 = entry.value;
  const now = deps.now();
  // A duplicate of an older schedule: the current chain already moved next_check_at on.
  if (g0.next_check_at !== null && now < g0.next_check_at - EARLY_SLACK_MS) return;
  const same = (g: GenerationRecord) =>
    g.status === "processing" && g.tick === g0.tick && g.attempt === g0.attempt;
  if (now >= g0.deadline_at) {
    await updateGeneration(deps, id, (g) => same(g) ? deadlinePlan(now)(g) : null);
    return;
  }
  const cand = g0.candidates[g0.attempt];
  const adapter = deps.adapters[cand.provider];
  let result: PollResult;
  try {
    if (!adapter) throw new ProviderError(`provider ${cand.provider} is not configured`, true);
    result = await adapter.poll(g0.provider_job_id!, deps.providerDeps);
  } catch (err) {
    if (err instanceof ProviderError && !err.retryable) {
      result = { status: "failed", message: err.message, retryable: false };
    } else {
      // A network fault or upstream hiccup: try again later, the deadline bounds the wait.
      if (!(err instanceof ProviderError)) logOf(deps)(`generation ${id}: poll failed`, err);
      const retryAfter = err instanceof ProviderError ? err.retryAfterMs : undefined;
      result = { status: "running", retryAfterMs: retryAfter };
    }
  }

  const t = deps.now();
  if (result.status === "running") {
    await reschedulePoll(deps, g0, adapter, result.retryAfterMs, t);
    return;
  }
  if (result.status === "failed") {
    const { message } = providerMessage(g0, new ProviderError(result.message, result.retryable));
    const failed = await updateGeneration(
      deps,
      id,
      withReportedUsage(
        fallbackOrFailPlan(same, message, result.retryable, t, enqueue(SUBMIT_JOB, id)),
        result.reported,
        "failed",
        (g) => toVideoRequest(g.options),
        deps.models,
      ),
    );
    logUndercharge(deps, g0, failed.committed, result.reported);
    return;
  }

  // Claim the download, like the submit: the sweep leaves the generation alone while it runs.
  const claim = await updateGeneration(deps, id, (g): Plan | null =>
    !same(g) ? null : {
      next: {
        ...g,
        tick: g.tick + 1,
        next_check_at: Math.min(t + STORE_CLAIM_MS, g.deadline_at),
        updated_at: t,
      },
    });
  const claimed = claim.committed;
  if (!claimed) return;
  // A sweep may still step in on a download that outlasts its claim (a new tick, a second poll):
  // the video is the same, so whichever download finishes first completes the generation.
  const sameJob = (g: GenerationRecord) =>
    g.status === "processing" && g.attempt === claimed.attempt &&
    g.provider_job_id === claimed.provider_job_id;

  // Providers' URLs expire or need the provider's key, so the video is copied into storage.
  let stored: { bytes?: number } | void;
  try {
    const out = result.output;
    stored = "file" in out
      ? await deps.storage.storeFromFile(id, out.file)
      : await deps.storage.storeFromUrl(id, out);
  } catch (err) {
    logOf(deps)(`generation ${id}: storing the video failed`, err);
    if (err instanceof ProviderError && err.retryable) {
      // The video is still upstream: a download that timed out or hit a 5xx is tried again.
      await reschedulePoll(deps, claimed, adapter, err.retryAfterMs, deps.now());
      return;
    }
    const message = `${cand.model} via ${cand.provider}: the finished video could not be stored` +
      (err instanceof ProviderError ? ` (${err.message})` : "");
    await updateGeneration(deps, id, (g) => sameJob(g) ? failPlan(message, deps.now())(g) : null);
    return;
  }
  const done = deps.now();
  const res = await updateGeneration(
    deps,
    id,
    withReportedUsage(
      completePlan(sameJob, done, stored ? stored.bytes : undefined),
      result.reported,
      "completed",
      (g) => toVideoRequest(g.options),
      deps.models,
    ),
  );
  logUndercharge(deps, claimed, res.committed, result.reported);
  const out = result.output;
  if ("file" in out && isWorkFile(deps, out.file) && res.current && isTerminal(res.current)) {
    // The rendered work file is in storage now; a copy left behind would only fill the disk.
    await Deno.remove(out.file).catch(() => {});
  }
}

/** Logs a provider's reported cost above what we charged for the attempt (reconcile.ts). */
function logUndercharge(
  deps: GenerationDeps,
  before: GenerationRecord,
  after: GenerationRecord | null,
  reported: ReportedUsage | undefined,
) {
  if (!after) return;
  const req = toVideoRequest(before.options);
  const message = underchargeMessage(before, after, reported, req, deps.models);
  if (message) logOf(deps)(message);
}

/** True for a file an adapter wrote under the work dir (only those are ours to remove). */
function isWorkFile(deps: GenerationDeps, file: string): boolean {
  const dir = deps.providerDeps.workDir.replace(/\/+$/, "") + "/";
  return file.startsWith(dir) && !file.slice(dir.length).split("/").includes("..");
}

/** Schedules the next poll of the same chain (checked on its tick, so a stale chain writes nothing). */
async function reschedulePoll(
  deps: GenerationDeps,
  g0: GenerationRecord,
  adapter: ProviderAdapter | undefined,
  retryAfterMs: number | undefined,
  t: number,
) {
  const delay = adapter ? pollDelayMs(adapter, g0.poll_count + 1, retryAfterMs) : 60_000;
  await updateGeneration(
    deps,
    g0.id,
    (g): Plan | null =>
      g.status !== "processing" || g.tick !== g0.tick || g.attempt !== g0.attempt ? null : {
        next: {
          ...g,
          poll_count: g.poll_count + 1,
          tick: g.tick + 1,
          next_check_at: Math.min(t + delay, g.deadline_at),
          updated_at: t,
        },
        apply: enqueue(POLL_JOB, g.id, Math.min(delay, Math.max(0, g.deadline_at - t))),
      },
  );
}

/** The job handlers to pass to JobQueue.listen. */
export function generationJobHandlers(deps: GenerationDeps): Record<string, JobHandler> {
  return {
    [SUBMIT_JOB]: (job: Job) => submitGeneration(deps, job.id),
    [POLL_JOB]: (job: Job) => pollGeneration(deps, job.id),
  };
}
