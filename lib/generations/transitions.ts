import { addCreditMutations } from "../db/ledger.ts";
import {
  addGenerationUpdate,
  type GenerationRecord,
  isTerminal,
  loadGeneration,
} from "../db/generations.ts";
import { addModelOutcome, addTerminalUsage } from "../db/usage.ts";
import { addSpendRefundMutations } from "../db/spend.ts";
import type { GenerationDeps } from "./deps.ts";
import { recordGenerationEnded } from "../telemetry/metrics.ts";
import type { FailureCode } from "../providers/types.ts";

/**
 * State changes of a generation. Each is a plan computed from the current record and committed
 * with a check on its versionstamp; a move to a terminal state carries, in the same commit, its
 * refund, its usage counters and the onTerminal hook, so a refund happens at most once.
 */

export interface Plan {
  next: GenerationRecord;
  /** Extra mutations for the same commit (jobs to enqueue, fallback metrics). */
  apply?: (a: Deno.AtomicOperation) => void;
}

export interface UpdateResult {
  /** The record written, or null when the plan declined. */
  committed: GenerationRecord | null;
  /** The record as last read. */
  current: GenerationRecord | null;
}

/**
 * Applies `plan` to the latest record; on a lost race re-reads and re-plans (up to `tries`).
 * A plan returns null to decline (e.g. the generation is already terminal).
 */
export async function updateGeneration(
  deps: GenerationDeps,
  id: string,
  plan: (g: GenerationRecord) => Plan | null,
  tries = 5,
): Promise<UpdateResult> {
  let current: GenerationRecord | null = null;
  for (let i = 0; i < tries; i++) {
    const entry = await loadGeneration(deps.kv, id);
    if (!entry) return { committed: null, current: null };
    current = entry.value;
    const p = plan(entry.value);
    if (!p) return { committed: null, current };
    const a = deps.kv.atomic();
    addGenerationUpdate(a, entry, p.next);
    if (!isTerminal(entry.value) && isTerminal(p.next)) addTerminalMutations(a, deps, p.next);
    p.apply?.(a);
    if (!(await a.commit()).ok) continue;
    if (!isTerminal(entry.value) && isTerminal(p.next)) recordGenerationEnded(endedMetric(p.next));
    return { committed: p.next, current: p.next };
  }
  return { committed: null, current };
}

/** What /metrics counts of a generation that just ended (generation time: completed only). */
function endedMetric(g: GenerationRecord) {
  return {
    model: g.model,
    provider: g.candidates[g.attempt]?.provider ?? "none",
    status: g.status,
    refundedCents: g.refunded_cents,
    seconds: g.completed_at ? (g.completed_at - g.created_at) / 1000 : null,
  };
}

function addTerminalMutations(a: Deno.AtomicOperation, deps: GenerationDeps, g: GenerationRecord) {
  const now = g.completed_at ?? deps.now();
  if (g.refunded_cents > 0) {
    addCreditMutations(a, g.org_id, g.refunded_cents, {
      kind: "refund",
      generationId: g.id,
      reason: g.status === "completed" ? `Settled to ${g.model}'s price` : `Generation ${g.status}`,
    }, now);
    // Gives the key's and budget's allowance back, if the charge was counted in it.
    if (g.spend_counted) addSpendRefundMutations(a, g, g.refunded_cents);
  }
  addTerminalUsage(a, {
    orgId: g.org_id,
    model: g.model,
    status: g.status as "completed" | "failed" | "cancelled",
    costCents: g.cost_cents ?? 0,
    durationSeconds: g.options.duration,
    latencyMs: g.latency_ms,
  }, now);
  deps.onTerminal?.(a, g);
}

function closeAttempt(g: GenerationRecord, nowMs: number, error: string | null) {
  return g.attempts.map((at, i) =>
    i === g.attempts.length - 1 && at.ended_at === null ? { ...at, ended_at: nowMs, error } : at
  );
}

/** Fails and fully refunds a non-terminal generation, with the reason's code (API.md). */
export function failPlan(message: string, nowMs: number, code: FailureCode = "provider_error") {
  return (g: GenerationRecord): Plan | null =>
    isTerminal(g) ? null : {
      next: {
        ...g,
        status: "failed",
        error_message: message,
        error_code: code,
        cost_cents: 0,
        refunded_cents: g.charged_cents,
        attempts: closeAttempt(g, nowMs, message),
        submit_claimed_at: null,
        next_check_at: null,
        updated_at: nowMs,
        completed_at: nowMs,
      },
    };
}

/** Fails and fully refunds a generation past its deadline (the workers' and the sweep's words). */
export function deadlinePlan(nowMs: number) {
  return (g: GenerationRecord): Plan | null => {
    const minutes = Math.round((g.deadline_at - g.created_at) / 60_000);
    const message = `Generation timed out: no result from ${g.model} within ${minutes} minutes`;
    return failPlan(message, nowMs, "timeout")(g);
  };
}

/** Cancels and fully refunds a non-terminal generation. */
export function cancelPlan(nowMs: number) {
  return (g: GenerationRecord): Plan | null =>
    isTerminal(g) ? null : {
      next: {
        ...g,
        status: "cancelled",
        error_code: "cancelled",
        cost_cents: 0,
        refunded_cents: g.charged_cents,
        attempts: closeAttempt(g, nowMs, "cancelled"),
        submit_claimed_at: null,
        next_check_at: null,
        updated_at: nowMs,
        completed_at: nowMs,
      },
    };
}

/** Completes a generation, settling the charge to the price of the candidate that ran. */
export function completePlan(
  expect: (g: GenerationRecord) => boolean,
  nowMs: number,
  bytes?: number,
) {
  return (g: GenerationRecord): Plan | null => {
    if (isTerminal(g) || !expect(g)) return null;
    const price = g.candidates[g.attempt].price_cents;
    return {
      next: {
        ...g,
        status: "completed",
        cost_cents: price,
        refunded_cents: g.charged_cents - price,
        output: bytes === undefined ? { stored: true } : { stored: true, bytes },
        latency_ms: nowMs - g.created_at,
        attempts: closeAttempt(g, nowMs, null),
        next_check_at: null,
        updated_at: nowMs,
        completed_at: nowMs,
      },
    };
  };
}

/**
 * After a retryable failure: moves to the next candidate (back to pending, with a submit job
 * added by the caller through `apply`) or, when none is left, fails and refunds.
 */
export function fallbackOrFailPlan(
  expect: (g: GenerationRecord) => boolean,
  message: string,
  retryable: boolean,
  nowMs: number,
  enqueueSubmit: (a: Deno.AtomicOperation) => void,
  code: FailureCode = "provider_error",
) {
  return (g: GenerationRecord): Plan | null => {
    if (isTerminal(g) || !expect(g)) return null;
    if (!retryable || g.attempt + 1 >= g.candidates.length) {
      return failPlan(message, nowMs, code)(g);
    }
    const next = g.candidates[g.attempt + 1];
    return {
      next: {
        ...g,
        status: "pending",
        model: next.model,
        attempt: g.attempt + 1,
        attempts: closeAttempt(g, nowMs, message),
        provider_job_id: null,
        submit_claimed_at: null,
        poll_count: 0,
        tick: g.tick + 1,
        next_check_at: Math.min(nowMs, g.deadline_at),
        updated_at: nowMs,
      },
      apply: (a) => {
        // A route failover stays within the model: its outcome is counted once, at the end.
        if (next.model !== g.model) addModelOutcome(a, g.model, "failed", null, nowMs);
        enqueueSubmit(a);
      },
    };
  };
}

/**
 * After a transient refusal of a submit: the claim is released and the same route is tried
 * again after `delayMs` (the submit job comes through `apply`).
 */
export function retryLaterPlan(
  expect: (g: GenerationRecord) => boolean,
  message: string,
  nowMs: number,
  delayMs: number,
  enqueueSubmit: (a: Deno.AtomicOperation) => void,
) {
  return (g: GenerationRecord): Plan | null =>
    isTerminal(g) || !expect(g) ? null : {
      next: {
        ...g,
        attempts: closeAttempt(g, nowMs, message),
        submit_claimed_at: null,
        tick: g.tick + 1,
        next_check_at: Math.min(nowMs + delayMs, g.deadline_at),
        updated_at: nowMs,
      },
      apply: enqueueSubmit,
    };
}

/**
 * The current route's breaker is open (before anything was sent): move to the next candidate
 * when there is one, else wait `waitMs` for the route to half-open.
 */
export function avoidOpenRoutePlan(
  g0: GenerationRecord,
  nowMs: number,
  waitMs: number,
  enqueueSubmitIn: (delayMs: number) => (a: Deno.AtomicOperation) => void,
) {
  return (g: GenerationRecord): Plan | null => {
    if (g.status !== "pending" || g.tick !== g0.tick || g.attempt !== g0.attempt) return null;
    const cand = g.candidates[g.attempt];
    const message = `${cand.model} via ${cand.provider}: route paused after repeated failures`;
    if (g.attempt + 1 < g.candidates.length) {
      return fallbackOrFailPlan(() => true, message, true, nowMs, enqueueSubmitIn(0))(g);
    }
    return {
      next: { ...g, tick: g.tick + 1, next_check_at: nowMs + waitMs, updated_at: nowMs },
      apply: enqueueSubmitIn(waitMs),
    };
  };
}
