/** Route choice: which routes can serve a request as asked, and in what order they are tried. */
import type { ProviderId, VideoRequest } from "../providers/types.ts";
import type { Cents } from "./money.ts";
import { priceOn, routeMode } from "./pricing.ts";
import type { AskedOptions, Model, Route } from "./types.ts";

/** The caller's provider choice: one pinned provider, or a preferred order. */
export type ProviderChoice = string | { order: string[] } | undefined;

/**
 * Why a route cannot serve a request as asked, as the request parameter to name, or null when
 * it can. `asked` tells which defaulted options the caller actually set.
 */
export function routeRefusal(
  route: Route,
  req: VideoRequest,
  asked: AskedOptions = { aspectRatio: true, audio: true },
  now?: number,
): string | null {
  const u = route.unsupported;
  if (u?.resolutions?.includes(req.resolution)) return "resolution";
  if (u?.durations?.includes(req.duration)) return "duration";
  if (u?.imageInput && req.image) return "image_url";
  if (route.sunset && now !== undefined && now >= Date.parse(`${route.sunset}T00:00:00Z`)) {
    return "model";
  }
  if (!route.modes) return null;
  const mode = routeMode(route, req);
  if (!mode) return "image_url";
  if (!mode.resolutions.includes(req.resolution)) return "resolution";
  const durations = mode.durationsAt?.[req.resolution] ?? mode.durations;
  if (!durations.includes(req.duration)) return "duration";
  if (
    mode.aspectRatios.length === 0
      ? asked.aspectRatio
      : !mode.aspectRatios.includes(req.aspectRatio)
  ) {
    return "aspect_ratio";
  }
  if (req.seed !== undefined && !mode.seed) return "seed";
  if (req.negativePrompt && !mode.negativePrompt) return "negative_prompt";
  if (req.audio === true && mode.audio === "none") return "audio";
  // A defaulted audio: false does not refuse a route that always makes sound; it is priced with
  // sound there (audioOn), as it makes it.
  if (req.audio === false && mode.audio === "always" && asked.audio !== false) return "audio";
  return null;
}

export function routeSupports(
  route: Route,
  req: VideoRequest,
  asked?: AskedOptions,
  now?: number,
): boolean {
  return routeRefusal(route, req, asked, now) === null;
}

/**
 * The routes a model may run on, in the order they are tried: only the named provider when
 * `provider` is a string; else the providers of `order` first (in that order), then the rest;
 * within each group the cheapest first. Only configured routes that support the options.
 */
export function rankRoutes(
  model: Model,
  req: VideoRequest,
  provider: ProviderChoice,
  configured: (p: ProviderId) => boolean,
  margin: number,
  asked?: AskedOptions,
  now?: number,
): { route: Route; price: Cents }[] {
  const usable = model.routes.flatMap((route) => {
    if (!configured(route.provider) || routeRefusal(route, req, asked, now)) return [];
    try {
      return [{ route, price: priceOn(route, req, margin) }];
    } catch {
      return [];
    }
  }).sort((a, b) => deprecated(a.route) - deprecated(b.route) || a.price - b.price);
  if (typeof provider === "string") return usable.filter((r) => r.route.provider === provider);
  const order = provider?.order ?? [];
  const rank = (p: ProviderId) => {
    const i = order.indexOf(p);
    return i === -1 ? order.length : i;
  };
  return usable.sort((a, b) =>
    deprecated(a.route) - deprecated(b.route) || rank(a.route.provider) - rank(b.route.provider)
  );
}

// A deprecated route runs only when every other route of the model cannot.
const deprecated = (r: Route) => r.status === "deprecated" ? 1 : 0;

/** The route a model runs on first (see rankRoutes); null when none is available. */
export function pickRoute(
  model: Model,
  req: VideoRequest,
  provider: ProviderChoice,
  configured: (p: ProviderId) => boolean,
  margin: number,
): { route: Route; price: Cents } | null {
  return rankRoutes(model, req, provider, configured, margin)[0] ?? null;
}
