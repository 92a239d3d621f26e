/**
 * Cost reconciliation: what a provider reports it charged for a job, next to what we charged.
 * Under-charging must be visible: a log line per generation whose reported cost exceeds our
 * price, and per-route totals (GET /admin/v1/routes/margins).
 */
import { audioOn, type Cents, type Model, MODELS, type Route } from "../catalog.ts";
import { addRouteCosts, listRouteCosts } from "../db/route_costs.ts";
import type { GenerationRecord } from "../db/generations.ts";
import type { ReportedUsage, VideoRequest } from "./types.ts";

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

/** What is stored on the generation: the provider's figures and, where priced, their cents. */
export type UpstreamReported = ReportedUsage & { cost_cents?: number };

/**
 * Adds the reported usage to a completing generation's commit: the record field and the
 * route's counters move in the same atomic write, so a completion is counted once.
 */
export function withReportedUsage<
  P extends { next: GenerationRecord; apply?: (a: Deno.AtomicOperation) => void },
>(
  plan: (g: GenerationRecord) => P | null,
  reported: ReportedUsage | undefined,
  req: (g: GenerationRecord) => VideoRequest,
  models?: Model[],
): (g: GenerationRecord) => P | null {
  if (!reported) return plan;
  return (g) => {
    const p = plan(g);
    if (!p) return p;
    const route = candidateRoute(g, models);
    const cents = route ? reportedCostCents(route, req(g), reported) : undefined;
    const upstream: UpstreamReported = cents === undefined
      ? reported
      : { ...reported, cost_cents: cents };
    const price = g.candidates[g.attempt].price_cents;
    const inner = p.apply;
    return {
      ...p,
      next: { ...p.next, upstream_reported: upstream },
      apply: (a: Deno.AtomicOperation) => {
        inner?.(a);
        if (cents === undefined) return;
        const c = g.candidates[g.attempt];
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

/** The log line for a completed generation whose provider charged more than we did, or null. */
export function underchargeMessage(g: GenerationRecord): string | null {
  const cost = g.upstream_reported?.cost_cents;
  const price: Cents | null = g.cost_cents;
  if (cost === undefined || price === null || cost <= price) return null;
  const c = g.candidates[g.attempt];
  return `generation ${g.id}: ${c.provider} reported a cost of ${cost} cents for ` +
    `${c.upstream_model}, above our price of ${price} cents (margin ${price - cost} cents)`;
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
