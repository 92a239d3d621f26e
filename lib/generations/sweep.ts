import {
  dueKey,
  type GenerationRecord,
  isTerminal,
  listDue,
  loadGeneration,
  SWEEP_LEASE_KEY,
} from "../db/generations.ts";
import { withLease } from "../db/kv.ts";
import { enqueueInAtomic, enqueueMinuteJob, type JobHandler } from "../jobs.ts";
import { type GenerationDeps, logOf } from "./deps.ts";
import { deadlinePlan, type Plan, updateGeneration } from "./transitions.ts";
import { releaseEndedJob } from "./cancel_signal.ts";
import { POLL_JOB, SUBMIT_JOB } from "./workers.ts";

/**
 * The safety net under the queue: generations whose next check is overdue (a lost message, a
 * crash) get their job again, and those past their deadline fail and are refunded. Every write is
 * checked against the record's tick, so overlapping or duplicate sweeps do the work once. The
 * minute cron only enqueues a `generation.sweep` job; the job does the work.
 */

/**
 * How late a check must be before the sweep steps in. Work in progress (a submit, a render, a
 * download) holds a renewed lease that keeps its check in the future, so this only needs to
 * outlast a poll call (bounded by the provider timeouts); a second poll would be harmless anyway.
 */
export const SWEEP_GRACE_MS = 15_000;

export interface SweepResult {
  requeued: string[];
  expired: string[];
}

export async function sweepGenerations(
  deps: GenerationDeps,
  nowMs: number,
  opts: { graceMs?: number; limit?: number } = {},
): Promise<SweepResult> {
  const result: SweepResult = { requeued: [], expired: [] };
  const due = await listDue(deps.kv, nowMs - (opts.graceMs ?? SWEEP_GRACE_MS), opts.limit);
  for (const { atMs, id } of due) {
    const entry = await loadGeneration(deps.kv, id);
    if (!entry || isTerminal(entry.value) || entry.value.next_check_at !== atMs) {
      // An index entry left behind: the record moved on or is gone.
      if (!entry || entry.value.next_check_at !== atMs) await deps.kv.delete(dueKey(atMs, id));
      continue;
    }
    const g0 = entry.value;
    const same = (g: GenerationRecord) => !isTerminal(g) && g.tick === g0.tick;
    if (nowMs >= g0.deadline_at) {
      const r = await updateGeneration(deps, id, (g) => same(g) ? deadlinePlan(nowMs)(g) : null, 1);
      if (r.committed) result.expired.push(id);
      if (r.committed) await releaseEndedJob(deps, r.committed);
      continue;
    }
    const type = g0.status === "pending" ? SUBMIT_JOB : POLL_JOB;
    const r = await updateGeneration(deps, id, (g): Plan | null =>
      !same(g) ? null : {
        next: { ...g, tick: g.tick + 1, next_check_at: nowMs, updated_at: nowMs },
        apply: (a) => enqueueInAtomic(a, { type, id, org: g0.org_id }),
      }, 1);
    if (r.committed) result.requeued.push(id);
  }
  return result;
}

export const SWEEP_JOB = "generation.sweep";
/**
 * How long one sweep job holds the lease: shorter than the cron's minute, so the next minute's
 * sweep runs, and long enough that duplicate firings of the same minute find it held.
 */
export const SWEEP_LEASE_MS = 50_000;

/** What the cron does (DESIGN.md: cron only enqueues): one sweep job, named by its minute. */
export function enqueueSweep(kv: Deno.Kv, nowMs: number): Promise<void> {
  return enqueueMinuteJob(kv, SWEEP_JOB, nowMs);
}

/**
 * The sweep job. KV queues cannot drop duplicates by id, so a lease in KV makes duplicate firings
 * (several processes, a redelivery) collapse: the job that does not get it does nothing (null).
 */
export async function runSweepJob(deps: GenerationDeps): Promise<SweepResult | null> {
  const nowMs = deps.now();
  // A sweep that throws gives the lease back, so the queue's redelivery sweeps again at once.
  const r = await withLease(
    deps.kv,
    SWEEP_LEASE_KEY,
    nowMs,
    SWEEP_LEASE_MS,
    () => sweepGenerations(deps, nowMs),
  );
  if (r && (r.requeued.length || r.expired.length)) {
    logOf(deps)(`sweep: requeued ${r.requeued.length}, expired ${r.expired.length}`);
  }
  return r;
}

/** The id of the sweep a process queues at start-up (lib/background.ts). */
export const STARTUP_SWEEP_ID = "startup";

/** The sweep's job handler, for JobQueue.listen (lib/background.ts). */
export function sweepJobHandlers(deps: GenerationDeps): Record<string, JobHandler> {
  return {
    [SWEEP_JOB]: async (job) => {
      // The start-up sweep finds work whose message died with a crashed process. The lease of a
      // sweep from before the crash may still hold (up to 50 s), so it does not take the lease:
      // overlapping sweeps are safe (tick-checked writes), only the cron's duplicates collapse.
      if (job.id === STARTUP_SWEEP_ID) await sweepGenerations(deps, deps.now());
      else await runSweepJob(deps);
    },
  };
}

/** Enqueues the sweep job every minute (Deno.cron); a failure is logged, the next minute retries. */
export function registerCron(deps: GenerationDeps): Promise<void> {
  return Deno.cron(
    "pipevideo sweep generations",
    "* * * * *",
    () =>
      enqueueSweep(deps.kv, deps.now()).catch((err) =>
        logOf(deps)("enqueueing the generation sweep failed", err)
      ),
  );
}
