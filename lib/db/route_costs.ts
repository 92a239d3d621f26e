import type { ProviderId } from "../providers/types.ts";

/**
 * Per-route cost reconciliation counters: KvU64 sums moved in the commit that completes a
 * generation whose provider reported what it charged, so each completion counts exactly once.
 */

export const ROUTE_COUNTERS = [
  "reported_count",
  "price_cents",
  "reported_millicents",
  "over_price_count",
] as const;
export type RouteCounter = typeof ROUTE_COUNTERS[number];

const routeKey = (provider: ProviderId, upstreamModel: string, c: RouteCounter): Deno.KvKey => [
  "route_costs",
  provider,
  upstreamModel,
  c,
];

export function addRouteCosts(
  a: Deno.AtomicOperation,
  provider: ProviderId,
  upstreamModel: string,
  add: Record<RouteCounter, number>,
) {
  for (const c of ROUTE_COUNTERS) {
    const n = Math.max(0, Math.round(add[c]));
    if (n > 0) a.sum(routeKey(provider, upstreamModel, c), BigInt(n));
  }
}

export interface RouteCostTotals {
  provider: ProviderId;
  upstream_model: string;
  counters: Record<RouteCounter, number>;
}

/** Every route's totals, in key order. */
export async function listRouteCosts(kv: Deno.Kv): Promise<RouteCostTotals[]> {
  const out = new Map<string, RouteCostTotals>();
  for await (const e of kv.list<Deno.KvU64>({ prefix: ["route_costs"] })) {
    const [, provider, upstream, counter] = e.key as [string, ProviderId, string, RouteCounter];
    const id = `${provider}\n${upstream}`;
    const row = out.get(id) ?? {
      provider,
      upstream_model: upstream,
      counters: Object.fromEntries(ROUTE_COUNTERS.map((c) => [c, 0])) as Record<
        RouteCounter,
        number
      >,
    };
    row.counters[counter] = Number(e.value.value);
    out.set(id, row);
  }
  return [...out.values()];
}
