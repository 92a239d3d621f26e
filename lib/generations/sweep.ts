import {
  dueKey,
  type GenerationRecord,
  isTerminal,
  listDue,
  loadGeneration,
} from "../db/generations.ts";
import { enqueueInAtomic } from "../jobs.ts";
import { type GenerationDeps, logOf } from "./deps.ts";
import { deadlinePlan, type Plan, updateGeneration } from "./transitions.ts";
import { POLL_JOB, SUBMIT_JOB } from "./workers.ts";

/**
 * The safety net under the queue: generations whose next check is overdue (a lost message, a
 * crash) get their job again, and those past their deadline fail and are refunded. Every write is
 * checked against the record's tick, so overlapping or duplicate sweeps do the work once.
 */

/** How late a check must be before the sweep steps in; normal work is never doubled. */
export const SWEEP_GRACE_MS = 60_000;

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
      continue;
    }
    const type = g0.status === "pending" ? SUBMIT_JOB : POLL_JOB;
    const r = await updateGeneration(deps, id, (g): Plan | null =>
      !same(g) ? null : {
        next: { ...g, tick: g.tick + 1, next_check_at: nowMs, updated_at: nowMs },
        apply: (a) => enqueueInAtomic(a, { type, id }),
      }, 1);
    if (r.committed) result.requeued.push(id);
  }
  return result;
}

/** Runs the sweep every minute (Deno.cron); a failure is logged and the next minute tries again. */
export function registerCron(deps: GenerationDeps): Promise<void> {
  return Deno.cron("pipevideo sweep generations", "* * * * *", async () => {
    try {
      const r = await sweepGenerations(deps, deps.now());
      if (r.requeued.length || r.expired.length) {
        logOf(deps)(`sweep: requeued ${r.requeued.length}, expired ${r.expired.length}`);
      }
    } catch (err) {
      logOf(deps)("sweep failed", err);
    }
  });
}
