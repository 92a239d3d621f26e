import type { ProviderId } from "../providers/types.ts";

/**
 * The circuit breaker's records (lib/generations/breaker.ts), shared by every instance:
 *   ["route_health", model, provider]        -> RouteHealth: recent submit outcomes, open_until
 *   ["route_faults", model, provider, what]  -> KvU64: duplicate / interrupted / adopted counts
 */

export interface RouteHealth {
  /** Recent submit outcomes, oldest first: 1 ok, 0 transient failure. */
  recent: number[];
  /** While set and in the future the route is open; past it, half-open. */
  open_until: number | null;
}

export type RouteFault =
  | "duplicate"
  | "duplicate_cancelled"
  | "interrupted_submit"
  | "orphan_adopted";

export const ROUTE_HEALTH_PREFIX: Deno.KvKey = ["route_health"];

export const healthKey = (model: string, provider: ProviderId): Deno.KvKey => [
  ...ROUTE_HEALTH_PREFIX,
  model,
  provider,
];

export const faultCountKey = (
  model: string,
  provider: ProviderId,
  what: RouteFault,
): Deno.KvKey => ["route_faults", model, provider, what];
