import {
  type Attempt,
  type Candidate,
  claimUpstreamJob,
  type GenerationRecord,
  isTerminal,
  loadGeneration,
  recordUpstreamJob,
} from "../db/generations.ts";
import { enqueueInAtomic, type Job, type JobHandler } from "../jobs.ts";
import {
  type PollResult,
  type ProviderAdapter,
  type ProviderDeps,
  ProviderError,
  type ReportedUsage,
  type VideoRequest,
} from "../providers/types.ts";
import {
  classifyFault,
  failureCode,
  MAX_SUBMIT_RETRIES,
  retryDelayMs,
  withTimeouts,
} from "../providers/faults.ts";
import { addRouteFault, countRouteFault, recordRouteOutcome, routeOpenUntil } from "./breaker.ts";
import { type GenerationDeps, logOf } from "./deps.ts";
import { fetchInputImage, ImageFetchError } from "./image.ts";
import { cancelSignal, releaseEndedJob } from "./cancel_signal.ts";
import { toVideoRequest } from "./service.ts";
import { candidateRoute, underchargeMessage, withReportedUsage } from "./settlement.ts";
import {
  avoidOpenRoutePlan,
  completePlan,
  deadlinePlan,
  failPlan,
  fallbackOrFailPlan,
  type Plan,
  retryLaterPlan,
  updateGeneration,
} from "./transitions.ts";

/**
 * The generation workers: `generation.submit` and `generation.poll` jobs. Delivery is at least
 * once and the sweep may add duplicates, so each handler re-reads the record and acts only when
 * the record says this step is still due; every write is checked against the version it read.
 */

export const SUBMIT_JOB = "generation.submit";
export const POLL_JOB = "generation.poll";

/**
 * How long a claim on a step (a submit, a local render, a download) holds unless renewed. The
 * worker renews it every third of this while the step runs, so only a claim whose process died
 * lapses, and the takeover job queued at its end picks the step up soon after.
 */
export const DEFAULT_LEASE_MS = 30_000;
/** The takeover job arrives this long after the lease ends, so it finds the lease lapsed. */
const TAKEOVER_SLACK_MS = 1_000;
/** A delivery this much before the record's next_check_at is a leftover or a duplicate: dropped. */
const EARLY_SLACK_MS = 500;
const MAX_POLL_DELAY_MS = 30_000;

export function pollDelayMs(adapter: ProviderAdapter, pollCount: number, retryAfterMs?: number) {
  const base = adapter.pollIntervalMs;
  const backedOff = Math.min(base * 1.25 ** pollCount, Math.max(base, MAX_POLL_DELAY_MS));
  return Math.round(Math.max(backedOff, retryAfterMs ?? 0));
}

const enqueue = (type: string, id: string, delayMs = 0) => (a: Deno.AtomicOperation) =>
  enqueueInAtomic(a, { type, id }, { delayMs });

const leaseMsOf = (deps: GenerationDeps) => deps.leaseMs ?? DEFAULT_LEASE_MS;

/**
 * Not due yet: a retry waiting out its backoff, a claim whose holder still renews its lease, or a
 * poll of an older schedule. A job is queued for next_check_at (and the sweep backs it up).
 */
const notDue = (g: GenerationRecord, nowMs: number) =>
  g.next_check_at !== null && nowMs < g.next_check_at - EARLY_SLACK_MS;

function every(ms: number, fn: () => Promise<unknown>): () => void {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
}

/**
 * Runs `work` while renewing the generation's lease: every third of the lease, a checked write
 * moves next_check_at forward (only while `owns` still holds) and queues a takeover job for the
 * new end. When this process dies the renewals stop and the takeover job finds the lease lapsed.
 */
async function holdingLease<T>(
  deps: GenerationDeps,
  id: string,
  owns: (g: GenerationRecord) => boolean,
  jobType: string,
  work: () => Promise<T>,
): Promise<T> {
  let renewal: Promise<unknown> = Promise.resolve();
  const stop = (deps.every ?? every)(leaseMsOf(deps) / 3, () => {
    renewal = renewal.then(() => renewLease(deps, id, owns, jobType)).catch((err) =>
      logOf(deps)(`generation ${id}: renewing the lease failed`, err)
    );
    return renewal;
  });
  try {
    return await work();
  } finally {
    stop();
    await renewal;
  }
}

/** Moves the lease's end forward; declines once the claim is no longer ours. */
async function renewLease(
  deps: GenerationDeps,
  id: string,
  owns: (g: GenerationRecord) => boolean,
  jobType: string,
): Promise<boolean> {
  const t = deps.now();
  const leaseMs = leaseMsOf(deps);
  const r = await updateGeneration(
    deps,
    id,
    (g): Plan | null =>
      isTerminal(g) || !owns(g) ? null : {
        next: { ...g, next_check_at: Math.min(t + leaseMs, g.deadline_at), updated_at: t },
        apply: enqueue(
          jobType,
          id,
          Math.min(leaseMs, Math.max(0, g.deadline_at - t)) + TAKEOVER_SLACK_MS,
        ),
      },
  );
  return r.committed !== null;
}

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

/** The attempt a submit claim records before anything is sent upstream. */
function newAttempt(cand: Candidate, nowMs: number): Attempt {
  return {
    model: cand.model,
    provider: cand.provider,
    upstream_job_id: null,
    started_at: nowMs,
    ended_at: null,
    error: null,
  };
}

const INTERRUPTED = "the process submitting it stopped; a later worker took the submit over";

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
  if (notDue(g0, now)) return;
  const cand = g0.candidates[g0.attempt];
  const adapter = deps.adapters[cand.provider];

  // The route's breaker is open: send the work elsewhere, or hold it until the route half-opens.
  const openUntil = await routeOpenUntil(deps.kv, cand.model, cand.provider, now);
  if (openUntil !== null && openUntil < g0.deadline_at) {
    const wait = openUntil - now + Math.round((deps.random ?? Math.random)() * 2_000);
    await updateGeneration(
      deps,
      id,
      avoidOpenRoutePlan(g0, now, wait, (ms) => enqueue(SUBMIT_JOB, id, ms)),
    );
    return;
  }

  // A claim whose lease lapsed with the submit unfinished: its process died mid-submit, and the
  // provider may or may not have started that job. Recorded and counted; the job is looked up
  // where the provider lists jobs (adoptOrphan), else the submit is retried.
  const interrupted = g0.submit_claimed_at !== null;
  const leaseMs = leaseMsOf(deps);
  const claim = await updateGeneration(
    deps,
    id,
    (g): Plan | null =>
      g.status !== "pending" || g.attempt !== g0.attempt || g.tick !== g0.tick || notDue(g, now)
        ? null
        : {
          next: {
            ...g,
            submit_claimed_at: now,
            tick: g.tick + 1,
            next_check_at: Math.min(now + leaseMs, g.deadline_at),
            attempts: [
              ...g.attempts.map((a) =>
                interrupted && a.ended_at === null ? { ...a, ended_at: now, error: INTERRUPTED } : a
              ),
              newAttempt(cand, now),
            ],
            updated_at: now,
          },
          apply: (a) => {
            enqueue(SUBMIT_JOB, id, leaseMs + TAKEOVER_SLACK_MS)(a);
            // A repeated local render costs nothing: only paid upstreams count.
            if (interrupted && !adapter?.resubmitSafe) {
              addRouteFault(a, cand.model, cand.provider, "interrupted_submit");
            }
          },
        },
    1,
  );
  const claimed = claim.committed;
  if (!claimed) return;
  if (interrupted) logOf(deps)(`generation ${id}: submit to ${cand.provider} ${INTERRUPTED}`);
  const expect = (g: GenerationRecord) =>
    g.status === "pending" && g.attempt === claimed.attempt && g.submit_claimed_at === now;

  let jobId: string;
  try {
    if (!adapter) {
      throw notConfigured(cand.provider);
    }
    jobId = await holdingLease(deps, id, expect, SUBMIT_JOB, async () => {
      const req = await videoRequestFor(deps, g0);
      // A cancel or the deadline, seen from any instance, stops the work (a local render: ffmpeg).
      const ended = cancelSignal(deps.kv, id);
      try {
        const pdeps = { ...withTimeouts(deps.providerDeps, cand.provider), signal: ended.signal };
        const orphan = interrupted && adapter.findOrphan
          ? await adoptOrphan(deps, adapter, g0, req, pdeps)
          : null;
        const endpoint = candidateRoute(g0, deps.models)?.endpoint;
        return orphan ?? (await adapter.submit(cand.upstream_model, req, pdeps, endpoint)).jobId;
      } finally {
        ended.stop();
      }
    });
  } catch (err) {
    await submitFailed(deps, claimed, expect, err);
    return;
  }

  const t = deps.now();
  await recordRouteOutcome(deps.kv, cand.model, cand.provider, true, t);
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
      apply: (a) => {
        enqueue(POLL_JOB, id, delay)(a);
        // Known as ours, so no orphan search (of this or an identical request) adopts it.
        recordUpstreamJob(a, cand.provider, jobId, id);
      },
    });
  if (!res.committed && res.current) await cancelUnrecordedJob(deps, claimed, res.current, jobId);
}

const notConfigured = (provider: string) =>
  new ProviderError(
    `provider ${provider} is not configured`,
    true,
    undefined,
    undefined,
    "model_unavailable",
  );

/**
 * A takeover of a submit whose process died: where the provider lists jobs (Replicate, Luma),
 * looks for the one the dead process may have started (same request, created since the first
 * interrupted attempt began) and adopts the oldest that no other generation has recorded or
 * adopted, claimed with a checked write so two takeovers never adopt one job. Null: none found,
 * submit again.
 */
async function adoptOrphan(
  deps: GenerationDeps,
  adapter: ProviderAdapter,
  g: GenerationRecord,
  req: VideoRequest,
  pdeps: ProviderDeps,
): Promise<string | null> {
  const cand = g.candidates[g.attempt];
  // The interrupted attempts on this route (a job may have been started by any of them).
  const since = Math.min(
    ...g.attempts.slice(attemptsBefore(g))
      .filter((a) => a.ended_at === null || a.error === INTERRUPTED)
      .map((a) => a.started_at),
  );
  let ids: string[];
  try {
    ids = await adapter.findOrphan!(cand.upstream_model, req, since, pdeps);
  } catch (err) {
    logOf(deps)(`generation ${g.id}: looking up the interrupted submit on ${cand.provider}`, err);
    return null;
  }
  for (const jobId of ids) {
    const adopted = await claimUpstreamJob(deps.kv, cand.provider, jobId, g.id, (a) => {
      addRouteFault(a, cand.model, cand.provider, "orphan_adopted");
    });
    if (!adopted) continue;
    logOf(deps)(
      `generation ${g.id}: adopted ${cand.provider} job ${jobId} of the interrupted submit`,
    );
    return jobId;
  }
  return null;
}

/**
 * The job just started upstream is recorded nowhere: the generation was cancelled meanwhile, or
 * this worker's lease lapsed and another took the submit over (a duplicate paid job). Stop it.
 */
async function cancelUnrecordedJob(
  deps: GenerationDeps,
  claimed: GenerationRecord,
  current: GenerationRecord,
  jobId: string,
) {
  const { model, provider } = claimed.candidates[claimed.attempt];
  // Taken over by another worker (not cancelled, and no longer our claim): a second paid job.
  const duplicate = !isTerminal(current) && current.submit_claimed_at !== claimed.submit_claimed_at;
  if (duplicate) {
    logOf(deps)(`generation ${claimed.id}: duplicate upstream job ${jobId} on ${provider}`);
    await countRouteFault(deps.kv, model, provider, "duplicate");
  }
  const adapter = deps.adapters[provider];
  if (!adapter?.cancel) return;
  try {
    await adapter.cancel(jobId, withTimeouts(deps.providerDeps, provider));
    if (duplicate) await countRouteFault(deps.kv, model, provider, "duplicate_cancelled");
  } catch (err) {
    logOf(deps)(`generation ${claimed.id}: upstream cancel failed`, err);
  }
}

/**
 * A submit failed. Transient refusals (429, 5xx, resets, timeouts) are retried on the same route
 * with backoff while retries and the deadline allow; then, or at once for "try elsewhere" errors,
 * the next route or model takes over; a permanent refusal fails and refunds.
 */
async function submitFailed(
  deps: GenerationDeps,
  claimed: GenerationRecord,
  expect: (g: GenerationRecord) => boolean,
  err: unknown,
) {
  const id = claimed.id;
  const cand = claimed.candidates[claimed.attempt];
  const known = err instanceof ProviderError || err instanceof ImageFetchError;
  if (!known) logOf(deps)(`generation ${id}: submit failed`, err);
  const { message } = err instanceof ImageFetchError
    ? { message: err.message }
    : providerMessage(claimed, err);
  const kind = err instanceof ImageFetchError
    ? (err.retryable ? "reroute" : "permanent")
    : classifyFault(cand.provider, err);
  // An image that cannot be fetched or used is the request's own fault unless its host is down.
  const code = err instanceof ImageFetchError
    ? (err.retryable ? "provider_error" : "invalid_input")
    : failureCode(err);
  const t = deps.now();
  if (kind === "transient") {
    await recordRouteOutcome(deps.kv, cand.model, cand.provider, false, t);
    // Retries so far on this route: the attempts made since the generation moved to it.
    const tries = claimed.attempts.slice(attemptsBefore(claimed)).length;
    const retryAfter = err instanceof ProviderError ? err.retryAfterMs : undefined;
    const delay = retryDelayMs(tries - 1, retryAfter, deps.random);
    if (tries <= MAX_SUBMIT_RETRIES && t + delay < claimed.deadline_at) {
      await updateGeneration(
        deps,
        id,
        retryLaterPlan(expect, message, t, delay, enqueue(SUBMIT_JOB, id, delay)),
      );
      return;
    }
  }
  await updateGeneration(
    deps,
    id,
    fallbackOrFailPlan(expect, message, kind !== "permanent", t, enqueue(SUBMIT_JOB, id), code),
  );
}

/** How many attempts were made before the current candidate (each candidate's attempts are
 * contiguous: a route is left only by moving on to the next). */
function attemptsBefore(g: GenerationRecord): number {
  const cand = g.candidates[g.attempt];
  let i = g.attempts.length;
  while (
    i > 0 && g.attempts[i - 1].model === cand.model && g.attempts[i - 1].provider === cand.provider
  ) i--;
  return i;
}

/** Asks the provider for the job's state; stores the video and completes, or fails, or waits. */
export async function pollGeneration(deps: GenerationDeps, id: string): Promise<void> {
  const entry = await loadGeneration(deps.kv, id);
  if (!entry || entry.value.status !== "processing") return;
  const g0 = entry.value;
  const now = deps.now();
  // A duplicate of an older schedule, or a download whose holder still renews its lease.
  if (notDue(g0, now)) return;
  const same = (g: GenerationRecord) =>
    g.status === "processing" && g.tick === g0.tick && g.attempt === g0.attempt;
  if (now >= g0.deadline_at) {
    const r = await updateGeneration(deps, id, (g) => same(g) ? deadlinePlan(now)(g) : null);
    // Failed and refunded: the upstream job, still running there, is stopped where it can be.
    if (r.committed) await releaseEndedJob(deps, r.committed);
    return;
  }
  const cand = g0.candidates[g0.attempt];
  const adapter = deps.adapters[cand.provider];
  let result: PollResult;
  try {
    if (!adapter) throw notConfigured(cand.provider);
    const pdeps = withTimeouts(deps.providerDeps, cand.provider);
    result = await adapter.poll(g0.provider_job_id!, pdeps);
  } catch (err) {
    if (err instanceof ProviderError && !err.retryable) {
      result = { status: "failed", message: err.message, retryable: false, code: failureCode(err) };
    } else {
      // A network fault or upstream hiccup: try again later, the deadline bounds the wait.
      if (!(err instanceof ProviderError)) logOf(deps)(`generation ${id}: poll failed`, err);
      const retryAfter = err instanceof ProviderError ? err.retryAfterMs : undefined;
      result = { status: "running", retryAfterMs: retryAfter };
    }
  }

  const t = deps.now();
  if (result.status === "running") {
    await reschedulePoll(deps, g0, adapter, result.retryAfterMs, t, result.progress);
    return;
  }
  if (result.status === "failed") {
    const said = new ProviderError(
      result.message,
      result.retryable,
      undefined,
      undefined,
      result.code,
    );
    const { message } = providerMessage(g0, said);
    const code = failureCode(said);
    const failed = await updateGeneration(
      deps,
      id,
      withReportedUsage(
        fallbackOrFailPlan(same, message, result.retryable, t, enqueue(SUBMIT_JOB, id), code),
        result.reported,
        "failed",
        (g) => toVideoRequest(g.options),
        deps.models,
      ),
    );
    logUndercharge(deps, g0, failed.committed, result.reported);
    return;
  }

  // Claim the download under a renewed lease: the sweep and duplicate polls leave it alone while
  // it runs, and if this process dies the takeover poll queued at the lease's end redoes it.
  const leaseMs = leaseMsOf(deps);
  const claim = await updateGeneration(
    deps,
    id,
    (g): Plan | null =>
      !same(g) || notDue(g, t) ? null : {
        next: {
          ...g,
          tick: g.tick + 1,
          next_check_at: Math.min(t + leaseMs, g.deadline_at),
          updated_at: t,
        },
        apply: enqueue(POLL_JOB, id, leaseMs + TAKEOVER_SLACK_MS),
      },
  );
  const claimed = claim.committed;
  if (!claimed) return;
  // A takeover may step in on a download whose lease lapsed (a new tick, a second poll): the
  // video is the same and storing overwrites, so whichever download finishes first completes it.
  const sameJob = (g: GenerationRecord) =>
    g.status === "processing" && g.attempt === claimed.attempt &&
    g.provider_job_id === claimed.provider_job_id;
  const holdsClaim = (g: GenerationRecord) => sameJob(g) && g.tick === claimed.tick;

  // Providers' URLs expire or need the provider's key, so the video is copied into storage.
  let stored: { bytes?: number } | void;
  try {
    const out = result.output;
    stored = await holdingLease(
      deps,
      id,
      holdsClaim,
      POLL_JOB,
      () =>
        "file" in out
          ? deps.storage.storeFromFile(id, out.file)
          : deps.storage.storeFromUrl(id, out),
    );
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

/** Logs a provider's reported cost above what we charged for the attempt (settlement.ts). */
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
  /** The provider's progress, 0..1, where it reports one (shown in the API's `progress`). */
  progress?: number,
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
          ...(progress !== undefined ? { progress: Math.round(progress * 100) } : {}),
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
