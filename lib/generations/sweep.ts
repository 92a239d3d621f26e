import {
  dueKey,
  type GenerationRecord,
  isTerminal,
  listDue,
  loadGeneration,
  SWEEP_LEASE_KEY,
} from "../db/generations.ts";
import { defineSweep, enqueueInAtomic } from "../jobs.ts";
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

/** The id of the sweep a process queues at start-up (lib/background.ts). */
export const STARTUP_SWEEP_ID = "startup";

/**
 * The generation sweep (defineSweep: a minute cron enqueues it, a KV lease collapses duplicates).
 * The start-up sweep finds work whose job died with a crashed process. The lease of a sweep from
 * before the crash may still hold (up to 50 s), so it does not take the lease: overlapping sweeps
 * are safe (tick-checked writes), only the cron's duplicates collapse.
 */
export const generationSweep = defineSweep<GenerationDeps, SweepResult>({
  type: SWEEP_JOB,
  leaseKey: SWEEP_LEASE_KEY,
  leaseMs: SWEEP_LEASE_MS,
  unleased: (jobId) => jobId === STARTUP_SWEEP_ID,
  async sweep(deps, nowMs) {
    const r = await sweepGenerations(deps, nowMs);
    if (r.requeued.length || r.expired.length) {
      logOf(deps)(`sweep: requeued ${r.requeued.length}, expired ${r.expired.length}`);
    }
    return r;
  },
});
