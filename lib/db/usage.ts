import type { Cents } from "../catalog/money.ts";

/**
 * Usage aggregates kept in the same commits as generation transitions, as KvU64 counters moved
 * with sum() (no conflicts). Per org per UTC day and in total; per model per day with a latency
 * histogram, so metrics are computed from buckets and never by scanning generations.
 */

export const ORG_COUNTERS = [
  "request_count",
  "completed_count",
  "failed_count",
  "total_cost_cents",
  "total_duration_seconds",
] as const;
export type OrgCounter = typeof ORG_COUNTERS[number];

const MODEL_COUNTERS = ["total", "completed", "failed", "latency_sum_ms", "latency_count"] as const;
type ModelCounter = typeof MODEL_COUNTERS[number];

/** Upper bounds (ms) of the latency buckets: 100 ms × 2^(i/4), about 19% apart, up to ~3 h. */
export const LATENCY_BOUNDS_MS: number[] = Array.from(
  { length: 68 },
  (_, i) => Math.round(100 * 2 ** (i / 4)),
);

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((b) => ms <= b);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

const orgDayKey = (orgId: string, day: string, c: OrgCounter): Deno.KvKey => [
  "usage_day",
  orgId,
  day,
  c,
];
const orgTotalKey = (orgId: string, c: OrgCounter): Deno.KvKey => ["usage_total", orgId, c];
const modelDayKey = (slug: string, day: string, c: ModelCounter): Deno.KvKey => [
  "model_day",
  slug,
  day,
  c,
];
const modelLatencyKey = (slug: string, day: string, bucket: number): Deno.KvKey => [
  "model_latency",
  slug,
  day,
  bucket,
];

function addOrg(a: Deno.AtomicOperation, orgId: string, day: string, c: OrgCounter, n: number) {
  if (n <= 0) return;
  a.sum(orgDayKey(orgId, day, c), BigInt(n)).sum(orgTotalKey(orgId, c), BigInt(n));
}

/** A new generation request (counted on the UTC day it was created). */
export function addRequestUsage(a: Deno.AtomicOperation, orgId: string, nowMs: number) {
  addOrg(a, orgId, utcDay(nowMs), "request_count", 1);
}

export interface TerminalUsage {
  orgId: string;
  model: string;
  status: "completed" | "failed" | "cancelled";
  costCents: Cents;
  durationSeconds: number;
  latencyMs: number | null;
}

/** A generation reaching a terminal state; cancelled ones count as requests only. */
export function addTerminalUsage(a: Deno.AtomicOperation, u: TerminalUsage, nowMs: number) {
  const day = utcDay(nowMs);
  if (u.status === "completed") {
    addOrg(a, u.orgId, day, "completed_count", 1);
    addOrg(a, u.orgId, day, "total_cost_cents", u.costCents);
    addOrg(a, u.orgId, day, "total_duration_seconds", u.durationSeconds);
    addModelOutcome(a, u.model, "completed", u.latencyMs, nowMs);
  } else if (u.status === "failed") {
    addOrg(a, u.orgId, day, "failed_count", 1);
    addModelOutcome(a, u.model, "failed", null, nowMs);
  }
}

/** One model attempt's outcome; a fallback that moves on records a failure for the model left. */
export function addModelOutcome(
  a: Deno.AtomicOperation,
  slug: string,
  outcome: "completed" | "failed",
  latencyMs: number | null,
  nowMs: number,
) {
  const day = utcDay(nowMs);
  a.sum(modelDayKey(slug, day, "total"), 1n).sum(modelDayKey(slug, day, outcome), 1n);
  if (outcome === "completed" && latencyMs !== null) {
    const ms = Math.max(0, Math.round(latencyMs));
    a.sum(modelDayKey(slug, day, "latency_sum_ms"), BigInt(ms))
      .sum(modelDayKey(slug, day, "latency_count"), 1n)
      .sum(modelLatencyKey(slug, day, latencyBucket(ms)), 1n);
  }
}

export interface DailyUsage {
  date: string;
  request_count: number;
  completed_count: number;
  failed_count: number;
  total_cost_cents: Cents;
  total_duration_seconds: number;
}

export interface UsageTotals {
  total_requests: number;
  completed_requests: number;
  failed_requests: number;
  total_cost_cents: Cents;
}

const num = (v: unknown) => v instanceof Deno.KvU64 ? Number(v.value) : 0;

export async function getUsageTotals(kv: Deno.Kv, orgId: string): Promise<UsageTotals> {
  const e = await kv.getMany<Deno.KvU64[]>(ORG_COUNTERS.map((c) => orgTotalKey(orgId, c)));
  return {
    total_requests: num(e[0].value),
    completed_requests: num(e[1].value),
    failed_requests: num(e[2].value),
    total_cost_cents: num(e[3].value),
  };
}

/** Days with any usage, newest first, at most `days` of them. */
export async function getDailyUsage(
  kv: Deno.Kv,
  orgId: string,
  days = 30,
): Promise<DailyUsage[]> {
  const byDay = new Map<string, DailyUsage>();
  for await (const e of kv.list<Deno.KvU64>({ prefix: ["usage_day", orgId] }, { reverse: true })) {
    const [, , day, counter] = e.key as [string, string, string, OrgCounter];
    let row = byDay.get(day);
    if (!row) {
      if (byDay.size >= days) break;
      row = {
        date: day,
        request_count: 0,
        completed_count: 0,
        failed_count: 0,
        total_cost_cents: 0,
        total_duration_seconds: 0,
      };
      byDay.set(day, row);
    }
    row[counter] = num(e.value);
  }
  return [...byDay.values()];
}

export interface ModelMetrics {
  totalRequests: number;
  completedRequests: number;
  failedRequests: number;
  successRate: number; // 0–100
  avgLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
}

/** The last 7 UTC days (today included) of one model. */
export async function getModelMetrics(
  kv: Deno.Kv,
  slug: string,
  nowMs: number,
): Promise<ModelMetrics> {
  const first = utcDay(nowMs - 6 * 86_400_000);
  const last = utcDay(nowMs);
  const range = (prefix: string) => ({
    start: [prefix, slug, first],
    end: [prefix, slug, last + "~"],
  });
  const totals: Record<ModelCounter, number> = {
    total: 0,
    completed: 0,
    failed: 0,
    latency_sum_ms: 0,
    latency_count: 0,
  };
  for await (const e of kv.list<Deno.KvU64>(range("model_day"))) {
    totals[e.key[3] as ModelCounter] += num(e.value);
  }
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for await (const e of kv.list<Deno.KvU64>(range("model_latency"))) {
    buckets[e.key[3] as number] += num(e.value);
  }
  const finished = totals.completed + totals.failed;
  return {
    totalRequests: totals.total,
    completedRequests: totals.completed,
    failedRequests: totals.failed,
    successRate: finished === 0 ? 0 : Math.round((totals.completed / finished) * 1000) / 10,
    avgLatencyMs: totals.latency_count === 0
      ? 0
      : Math.round(totals.latency_sum_ms / totals.latency_count),
    p50LatencyMs: percentile(buckets, 0.5),
    p95LatencyMs: percentile(buckets, 0.95),
  };
}

/** Estimates a percentile by linear interpolation inside the bucket that holds it. */
export function percentile(buckets: number[], p: number): number {
  const count = buckets.reduce((a, b) => a + b, 0);
  if (count === 0) return 0;
  const rank = p * count;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (buckets[i] === 0) continue;
    if (seen + buckets[i] >= rank) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      const hi = LATENCY_BOUNDS_MS[i] ?? lo;
      return Math.round(lo + (hi - lo) * ((rank - seen) / buckets[i]));
    }
    seen += buckets[i];
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}
