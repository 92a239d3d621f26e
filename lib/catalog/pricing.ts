/** Prices: the charge for a request on a route, and the one rule on sound both price and adapters follow. */
import type { VideoRequest } from "../providers/types.ts";
import { BadRequest } from "../errors.ts";
import type { Cents, Pricing } from "./money.ts";
import type { Route, RouteMode } from "./types.ts";

/** The price we charge per unit on a route, by resolution: cost × margin, rounded up. */
export function routePrice(route: Route, margin: number): Pricing {
  if (route.listPrice) return route.listPrice;
  const up = (table: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(table).map(([k, v]) => [k, Math.ceil(round6(v * margin))]),
    );
  return {
    unit: route.cost.unit,
    cents: up(route.cost.cents),
    ...(route.cost.audioCents ? { audioCents: up(route.cost.audioCents) } : {}),
  };
}

// Float products such as 0.1 × 1.2 must not round 12.000000001 up to 13.
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * True when the route's video has sound for this request: the one rule both the price and the
 * adapters follow (a "switch" endpoint gets generate_audio = req.audio === true).
 */
export function audioOn(route: Route, req: VideoRequest): boolean {
  const mode = routeMode(route, req);
  if (mode?.audio === "always") return true;
  if (mode?.audio === "none") return false;
  return req.audio === true;
}

/** The charge for one request on one route, in integer cents. */
export function priceOn(route: Route, req: VideoRequest, margin: number): Cents {
  const p = routePrice(route, margin);
  const table = audioOn(route, req) && p.audioCents ? p.audioCents : p.cents;
  const perUnit = table[req.resolution];
  if (perUnit === undefined) {
    throw new BadRequest(`Resolution ${req.resolution} is not offered on this route`, "resolution");
  }
  return p.unit === "second" ? perUnit * req.duration : perUnit;
}

/** The endpoint mode a request uses on a route: image-to-video when it carries an image. */
export function routeMode(route: Route, req: VideoRequest): RouteMode | undefined {
  return req.image ? route.modes?.image : route.modes?.text;
}
