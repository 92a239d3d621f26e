/**
 * Settlement and cost reconciliation, beside the generation's state changes (transitions.ts):
 * what a provider reports it charged for a job, next to what we charged.
 * Under-charging must be visible: a log line per generation whose reported cost exceeds our
 * price, and per-route totals (GET /admin/v1/routes/margins).
 */
import { audioOn, type Cents, type Model, MODELS, type Route } from "../catalog/mod.ts";
import { addRouteCosts, listRouteCosts } from "../db/route_costs.ts";
import type { GenerationRecord, UpstreamReported } from "../db/generations.ts";
import type { ReportedUsage, VideoRequest } from "../providers/types.ts";

/** The reported usage in cents, where it can be priced: money as said, or billed units x cost. */
export function reportedCostCents(
  route: Route,
  req: VideoRequest,
  reported: ReportedUsage,
): number | undefined {
  if (typeof reported.costCents === "number") return reported.costCents;
  if (typeof reported.billableUnits === "number") {
    const table = audioOn(route, req) && route.cost.audioCents
      ? route.cost.audioCents
      : route.cost.cents;
    const perUnit = table[req.resolution];
    return perUnit === undefined ? undefined : reported.billableUnits * perUnit;
  }
  return undefined; // Replicate's predict_time is kept, but its video models bill per output
}

/** The catalog route a generation's current candidate ran on. */
export function candidateRoute(g: GenerationRecord, models: Model[] = MODELS): Route | undefined {
  const c = g.candidates[g.attempt];
  return models.find((m) => m.slug === c.model)?.routes.find((r) =>
    r.provider === c.provider && r.upstreamModel === c.upstream_model
  );
}

/**
 * Adds the reported usage to the commit that ends an attempt: on completion the record keeps it
 * (`upstream_reported`) against the price we charged; on failure (refunded, or handed to the
 * next candidate) we charged nothing for it. The route's counters move in the same atomic write,
 * so a duplicate delivery counts nothing twice.
 */
export function withReportedUsage<
  P extends { next: GenerationRecord; apply?: (a: Deno.AtomicOperation) => void },
>(
  plan: (g: GenerationRecord) => P | null,
  reported: ReportedUsage | undefined,
  outcome: "completed" | "failed",
  req: (g: GenerationRecord) => VideoRequest,
  models?: Model[],
): (g: GenerationRecord) => P | null {
  if (!reported) return plan;
  return (g) => {
    const p = plan(g);
    if (!p) return p;
    const c = g.candidates[g.attempt];
    const route = candidateRoute(g, models);
    const cents = route ? reportedCostCents(route, req(g), reported) : undefined;
    const price = outcome === "completed" ? c.price_cents : 0;
    const inner = p.apply;
    const upstream: UpstreamReported = cents === undefined
      ? reported
      : { ...reported, cost_cents: cents };
    return {
      ...p,
      next: outcome === "completed" ? { ...p.next, upstream_reported: upstream } : p.next,
      apply: (a: Deno.AtomicOperation) => {
        inner?.(a);
        if (cents === undefined) return;
        addRouteCosts(a, c.provider, c.upstream_model, {
          reported_count: 1,
          price_cents: price,
          reported_millicents: cents * 1000,
          over_price_count: cents > price ? 1 : 0,
        });
      },
    };
  };
}

/**
 * The log line when a provider charged more than we did for an attempt (a completion above our
 * price, or a failed attempt it billed anyway), or null.
 */
export function underchargeMessage(
  before: GenerationRecord,
  after: GenerationRecord,
  reported: ReportedUsage | undefined,
  req: VideoRequest,
  models?: Model[],
): string | null {
  if (!reported) return null;
  const c = before.candidates[before.attempt];
  const route = candidateRoute(before, models);
  const cost = route ? reportedCostCents(route, req, reported) : reported.costCents;
  const price = after.status === "completed" && after.attempt === before.attempt
    ? c.price_cents
    : 0;
  if (cost === undefined || cost <= price) return null;
  const what = price === 0
    ? "a failed attempt we do not charge for"
    : `our price of ${price} cents`;
  return `generation ${after.id}: ${c.provider} reported a cost of ${cost} cents for ` +
    `${c.upstream_model}, above ${what} (margin ${price - cost} cents)`;
}

export interface RouteMargin {
  provider: string;
  upstream_model: string;
  /** Completed generations whose provider reported a priceable cost. */
  reported_count: number;
  price_cents: Cents;
  reported_cost_cents: number;
  /** Our price minus the provider's reported cost: negative means we under-charge. */
  margin_cents: number;
  over_price_count: number;
}

/** Per-route margins from the counters, worst first. */
export async function routeMargins(kv: Deno.Kv): Promise<RouteMargin[]> {
  return (await listRouteCosts(kv)).map((r) => {
    const reported = r.counters.reported_millicents / 1000;
    return {
      provider: r.provider,
      upstream_model: r.upstream_model,
      reported_count: r.counters.reported_count,
      price_cents: r.counters.price_cents,
      reported_cost_cents: reported,
      margin_cents: Math.round((r.counters.price_cents - reported) * 1000) / 1000,
      over_price_count: r.counters.over_price_count,
    };
  }).sort((a, b) => a.margin_cents - b.margin_cents);
}
