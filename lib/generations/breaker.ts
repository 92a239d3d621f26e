import type { ProviderId } from "../providers/types.ts";
import {
  faultCountKey,
  healthKey,
  ROUTE_HEALTH_PREFIX,
  type RouteFault,
  type RouteHealth,
} from "../db/route_health.ts";
import { recordUpstreamDuplicate } from "../telemetry/metrics.ts";

/**
 * A circuit breaker per route (model + provider), kept in KV so every instance sees it: when most
 * of a route's recent submits failed transiently it opens, and new work goes to other routes (or
 * waits) until it half-opens; the next outcome closes or re-opens it. Also counts a route's
 * duplicate upstream jobs (a submit cut by a crash), which an operator should see.
 */

export type { RouteFault };

export type BreakerState = "closed" | "open" | "half_open";

/** Outcomes remembered per route. */
export const BREAKER_WINDOW = 10;
/** Fewer outcomes than this never open the breaker (one unlucky request is no outage). */
export const BREAKER_MIN_SAMPLES = 5;
/** The share of failures in the window that opens it. */
export const BREAKER_FAILURE_RATIO = 0.6;
export const BREAKER_OPEN_MS = 30_000;

function stateOf(h: RouteHealth | null, nowMs: number): BreakerState {
  if (!h?.open_until) return "closed";
  return nowMs < h.open_until ? "open" : "half_open";
}

/** Until when new work should stay away from the route; null when it may be tried. */
export async function routeOpenUntil(
  kv: Deno.Kv,
  model: string,
  provider: ProviderId,
  nowMs: number,
): Promise<number | null> {
  const h = (await kv.get<RouteHealth>(healthKey(model, provider))).value;
  return stateOf(h, nowMs) === "open" ? h!.open_until : null;
}

/**
 * Records one submit outcome (ok, or a transient failure) with a checked write; under heavy
 * contention a sample may be dropped, which a breaker can afford.
 */
export async function recordRouteOutcome(
  kv: Deno.Kv,
  model: string,
  provider: ProviderId,
  ok: boolean,
  nowMs: number,
): Promise<void> {
  const key = healthKey(model, provider);
  for (let i = 0; i < 3; i++) {
    const entry = await kv.get<RouteHealth>(key);
    const next = nextHealth(entry.value, ok, nowMs);
    if ((await kv.atomic().check(entry).set(key, next).commit()).ok) return;
  }
}

function nextHealth(h: RouteHealth | null, ok: boolean, nowMs: number): RouteHealth {
  const state = stateOf(h, nowMs);
  // Half-open: the probe decides. A success closes with a clean window, a failure re-opens.
  if (state === "half_open") {
    return ok
      ? { recent: [1], open_until: null }
      : { recent: [], open_until: nowMs + BREAKER_OPEN_MS };
  }
  const recent = [...(h?.recent ?? []), ok ? 1 : 0].slice(-BREAKER_WINDOW);
  if (state === "open") return { recent, open_until: h!.open_until };
  const failures = recent.filter((r) => r === 0).length;
  const trips = !ok && recent.length >= BREAKER_MIN_SAMPLES &&
    failures / recent.length >= BREAKER_FAILURE_RATIO;
  return trips ? { recent: [], open_until: nowMs + BREAKER_OPEN_MS } : { recent, open_until: null };
}

/** duplicate: a second upstream job was (or may have been) started for one generation.
 * orphan_adopted: an interrupted submit's job was found upstream and adopted (no duplicate). */

export function addRouteFault(
  a: Deno.AtomicOperation,
  model: string,
  provider: ProviderId,
  what: RouteFault,
) {
  a.sum(faultCountKey(model, provider, what), 1n);
}

export async function countRouteFault(
  kv: Deno.Kv,
  model: string,
  provider: ProviderId,
  what: RouteFault,
): Promise<void> {
  const a = kv.atomic();
  addRouteFault(a, model, provider, what);
  await a.commit();
  if (what === "duplicate") recordUpstreamDuplicate();
}

/** Every route the breaker has seen, with its state: /metrics and the operator console. */
export async function listRouteBreakers(
  kv: Deno.Kv,
  nowMs: number,
  limit = 1000,
): Promise<{ model: string; provider: ProviderId; breaker: BreakerState }[]> {
  const out = [];
  for await (const e of kv.list<RouteHealth>({ prefix: ROUTE_HEALTH_PREFIX }, { limit })) {
    const [, model, provider] = e.key as [string, string, ProviderId];
    out.push({ model, provider, breaker: stateOf(e.value, nowMs) });
  }
  return out;
}

/** What /v1/models/{slug} metrics and the /models page show per route. */
export interface RouteStatusJson {
  provider: ProviderId;
  breaker: BreakerState;
  /** Transient failures among the recent submits the breaker remembers (0–100). */
  recent_failure_rate: number;
  /** Upstream jobs started twice for one generation (a submit cut by a crash). */
  duplicate_jobs: number;
  /** Of those, the ones cancelled upstream. */
  duplicate_jobs_cancelled: number;
  /** Submits cut by a crash and taken over: each may have left an orphaned upstream job (no
   * provider has idempotency keys), so each is a possible duplicate. */
  interrupted_submits: number;
  /** Of those, the ones whose job was found upstream and adopted (Replicate, Luma): no duplicate. */
  orphans_adopted: number;
}

export async function routeStatus(
  kv: Deno.Kv,
  model: string,
  provider: ProviderId,
  nowMs: number,
): Promise<RouteStatusJson> {
  const [h, dup, cancelled, interrupted, adopted] = await kv.getMany<
    [RouteHealth, Deno.KvU64, Deno.KvU64, Deno.KvU64, Deno.KvU64]
  >([
    healthKey(model, provider),
    faultCountKey(model, provider, "duplicate"),
    faultCountKey(model, provider, "duplicate_cancelled"),
    faultCountKey(model, provider, "interrupted_submit"),
    faultCountKey(model, provider, "orphan_adopted"),
  ]);
  const recent = h.value?.recent ?? [];
  const failures = recent.filter((r) => r === 0).length;
  return {
    provider,
    breaker: stateOf(h.value, nowMs),
    recent_failure_rate: recent.length ? Math.round((failures / recent.length) * 100) : 0,
    duplicate_jobs: Number(dup.value?.value ?? 0n),
    duplicate_jobs_cancelled: Number(cancelled.value?.value ?? 0n),
    interrupted_submits: Number(interrupted.value?.value ?? 0n),
    orphans_adopted: Number(adopted.value?.value ?? 0n),
  };
}
