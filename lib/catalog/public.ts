import {
  type AskedOptions,
  type Cents,
  type Model,
  MODELS,
  priceOn,
  type PriceUnit,
  type Route,
  routePrice,
  routeRefusal,
} from "./mod.ts";
import { NotFound } from "../errors.ts";
import { getModelMetrics, type ModelMetrics } from "../db/usage.ts";
import { routeStatus, type RouteStatusJson } from "../generations/breaker.ts";
import { ADAPTERS } from "../providers/registry.ts";
import type { ProviderId, VideoRequest } from "../providers/types.ts";
import type { Services } from "../services.ts";

/**
 * The public model catalog as /v1/models (compat) and the dashboard's /models page show it:
 * only models with at least one configured provider route, priced at what a request is charged.
 * Options and prices are what the configured routes honour (the same check createGeneration
 * makes), so nothing advertised is refused: the compat fields give the text-to-video options
 * (image-to-video for image-only models), `capabilities.modes` each mode's own.
 */

/** What one mode of a model (text- or image-to-video) honours on the configured routes. */
export interface ModeOptionsJson {
  durations: number[];
  resolutions: string[];
  /** Durations at a resolution, where fewer than `durations` (Veo on Gemini: 1080p is 8 s). */
  durations_at?: Record<string, number[]>;
  /** The aspect ratios one may ask for; [] when the video follows the input image. */
  aspect_ratios: string[];
  audio: boolean;
  negative_prompt: boolean;
  seed: boolean;
  pricing: ModelPricingJson;
}

export interface ModelCapabilitiesJson {
  durations: number[];
  resolutions: string[];
  aspect_ratios: string[];
  image_input: boolean;
  image_required: boolean;
  audio: boolean;
  negative_prompt: boolean;
  seed: boolean;
  defaults: { duration: number; resolution: string; aspect_ratio: string; audio?: boolean };
  /** Additive: each mode's options (text: without image_url, image: with one). */
  modes: { text?: ModeOptionsJson; image?: ModeOptionsJson };
}

export interface ModelPricingJson {
  unit: PriceUnit;
  currency: "usd";
  /** Cents per unit by resolution on the cheapest configured route (what a request is charged). */
  cents: Record<string, Cents>;
  /** Cents per unit by resolution when audio is generated; only for models with audio. */
  audio_cents?: Record<string, Cents>;
}

export interface Named {
  slug: string;
  name: string;
}

interface ModelJsonBase {
  slug: string;
  name: string;
  display_name: string;
  description: string;
  capabilities: ModelCapabilitiesJson;
  pricing: ModelPricingJson;
  maker: Named;
  family: Named;
}

/** One item of GET /v1/models (compat). */
export interface ModelListItem extends ModelJsonBase {
  routes: { provider: ProviderId; host: ProviderId }[];
}

/** GET /v1/models/{slug} (compat; metrics.routes is an additive field). */
export interface ModelDetail {
  model: ModelJsonBase & { id: string; routes: { provider: Named; host: Named }[] };
  metrics: ModelMetrics & { routes: RouteStatusJson[] };
}

/** Models offered in this environment (at least one configured route), in catalog order. */
export function listModels(services: Services): ModelListItem[] {
  return availableModels(services).map(({ model, routes, modes }) => ({
    ...baseJson(model, modes),
    routes: routes.map((r) => ({ provider: r.provider, host: r.provider })),
  }));
}

/**
 * One offered model with its last-7-days metrics. The slug may arrive URL-encoded
 * (`google%2Fveo-3.1`); an unknown or unavailable model is NotFound.
 */
export async function getModelDetail(services: Services, slug: string): Promise<ModelDetail> {
  const wanted = decodeSlug(slug);
  const found = availableModels(services).find((m) => m.model.slug === wanted);
  if (!found) throw new NotFound(`No model ${wanted}`, "slug");
  const { model, routes, modes } = found;
  const now = services.now();
  const [metrics, health] = await Promise.all([
    getModelMetrics(services.kv, model.slug, now),
    // Each route's breaker and duplicate-job counts (lib/generations/breaker.ts).
    Promise.all(routes.map((r) => routeStatus(services.kv, model.slug, r.provider, now))),
  ]);
  return {
    model: {
      id: model.slug,
      ...baseJson(model, modes),
      routes: routes.map((r) => ({
        provider: providerNamed(r.provider),
        host: providerNamed(r.provider),
      })),
    },
    metrics: { ...metrics, routes: health },
  };
}

function decodeSlug(slug: string): string {
  try {
    return decodeURIComponent(slug).trim();
  } catch {
    return slug;
  }
}

type Modes = ModelCapabilitiesJson["modes"];

function availableModels(
  services: Services,
): { model: Model; routes: Route[]; modes: Modes }[] {
  const configured = services.generation.adapters;
  const now = services.now();
  // A route past its provider's sunset date is gone (see routeRefusal).
  const live = (r: Route) => !r.sunset || now < Date.parse(`${r.sunset}T00:00:00Z`);
  return (services.generation.models ?? MODELS).flatMap((model) => {
    const routes = model.routes.filter((r) => configured[r.provider] && live(r));
    const modes = cachedModes(model, routes, services.generation.margin);
    return routes.length && (modes.text || modes.image) ? [{ model, routes, modes }] : [];
  });
}

// Pure in the model, its live routes and the margin; worked out once per process (tens of ms).
const modesCache = new WeakMap<Model, Map<string, Modes>>();
function cachedModes(model: Model, routes: Route[], margin: number): Modes {
  const byKey = modesCache.get(model) ?? new Map<string, Modes>();
  modesCache.set(model, byKey);
  const key = `${margin} ${routes.map((r) => model.routes.indexOf(r)).join(",")}`;
  let modes = byKey.get(key);
  if (!modes) byKey.set(key, modes = honouredModes(model, routes, margin));
  return modes;
}

/**
 * Each mode's options that some of `routes` takes, found with createGeneration's own check.
 * `routes` are the live ones (past a sunset date is already left out).
 */
export function honouredModes(model: Model, routes: Route[], margin: number): Modes {
  const c = model.capabilities;
  const out: Modes = {};
  if (!c.imageRequired) out.text = modeOptions(model, routes, false, margin) ?? undefined;
  if (c.imageInput) out.image = modeOptions(model, routes, true, margin) ?? undefined;
  return out;
}

function modeOptions(
  model: Model,
  routes: Route[],
  image: boolean,
  margin: number,
): ModeOptionsJson | null {
  const c = model.capabilities;
  // The request createGeneration makes of a body with these options (the rest defaulted).
  const request = (resolution: string, duration: number, extra: Partial<VideoRequest> = {}) => ({
    prompt: "",
    duration,
    resolution,
    aspectRatio: c.defaults.aspectRatio,
    ...(image ? { image: { url: "https://example.com/image.png" } } : {}),
    ...(c.audio && c.defaults.audio !== undefined ? { audio: c.defaults.audio } : {}),
    ...extra,
  });
  const unasked: AskedOptions = { aspectRatio: false, audio: false };
  // The routes that would run it, as rankRoutes finds them: not refused, and priced.
  const takers = (req: VideoRequest, asked: AskedOptions = unasked) =>
    routes.filter((r) => {
      if (routeRefusal(r, req, asked)) return false;
      try {
        priceOn(r, req, margin);
        return true;
      } catch {
        return false;
      }
    });
  const at: Record<string, number[]> = {};
  for (const res of c.resolutions) {
    const ds = c.durations.filter((d) => takers(request(res, d)).length > 0);
    if (ds.length) at[res] = ds;
  }
  const resolutions = Object.keys(at);
  if (!resolutions.length) return null;
  const durations = c.durations.filter((d) => resolutions.some((res) => at[res].includes(d)));
  const combos = resolutions.flatMap((res) => at[res].map((d) => [res, d] as const));
  const everywhere = (extra: Partial<VideoRequest>, asked: AskedOptions) =>
    combos.every(([res, d]) => takers(request(res, d, extra), asked).length > 0);
  const narrower = resolutions.filter((res) => at[res].length < durations.length);
  return {
    durations,
    resolutions,
    ...(narrower.length
      ? { durations_at: Object.fromEntries(narrower.map((r) => [r, at[r]])) }
      : {}),
    aspect_ratios: c.aspectRatios.filter((aspectRatio) =>
      everywhere({ aspectRatio }, { aspectRatio: true, audio: false })
    ),
    audio: c.audio && everywhere({ audio: true }, { aspectRatio: false, audio: true }),
    negative_prompt: c.negativePrompt && everywhere({ negativePrompt: "x" }, unasked),
    seed: c.seed && everywhere({ seed: 1 }, unasked),
    pricing: cheapestPricing(
      model,
      resolutions.map((res) => ({ res, routes: takersAt(res) })),
      margin,
    ),
  };

  /** The routes that take some request of this mode at `res`. */
  function takersAt(res: string): Route[] {
    return routes.filter((r) => at[res].some((d) => takers(request(res, d)).includes(r)));
  }
}

function providerNamed(id: ProviderId): Named {
  return { slug: id, name: ADAPTERS[id]?.name ?? id };
}

/** A model's public fields for the modes it honours (/v1/models and the /models page). */
export function baseJson(model: Model, modes: Modes): ModelJsonBase {
  const c = model.capabilities;
  // The compat fields: what a request without an image gets (with one, for image-only models).
  const flat = (modes.text ?? modes.image)!;
  return {
    slug: model.slug,
    name: model.name,
    display_name: model.displayName,
    description: model.description,
    capabilities: {
      durations: flat.durations,
      resolutions: flat.resolutions,
      aspect_ratios: flat.aspect_ratios,
      image_input: !!modes.image,
      image_required: c.imageRequired ?? false,
      audio: flat.audio,
      negative_prompt: flat.negative_prompt,
      seed: flat.seed,
      defaults: {
        duration: c.defaults.duration,
        resolution: c.defaults.resolution,
        aspect_ratio: c.defaults.aspectRatio,
        ...(c.defaults.audio !== undefined ? { audio: c.defaults.audio } : {}),
      },
      modes,
    },
    pricing: flat.pricing,
    maker: { slug: model.maker.slug, name: model.maker.name },
    family: { slug: model.family.slug, name: model.family.name },
  };
}

/**
 * Per resolution, the lowest price among the routes that take it: with no `provider` preference
 * a request is routed to the cheapest route, so this is what it is charged per unit.
 */
export function cheapestPricing(
  model: Model,
  byResolution: { res: string; routes: Route[] }[],
  margin: number,
): ModelPricingJson {
  let unit: PriceUnit | undefined;
  const cents: Record<string, Cents> = {};
  const audio: Record<string, Cents> = {};
  for (const { res, routes } of byResolution) {
    // A deprecated route runs only when no other can, so it sets no price while others exist.
    const current = routes.filter((r) => r.status !== "deprecated");
    for (const route of current.length ? current : routes) {
      const price = routePrice(route, margin);
      unit ??= price.unit;
      const plain = price.cents[res];
      if (price.unit !== unit || plain === undefined) continue;
      const withAudio = price.audioCents?.[res] ?? plain;
      if (cents[res] === undefined || plain < cents[res]) cents[res] = plain;
      if (audio[res] === undefined || withAudio < audio[res]) audio[res] = withAudio;
    }
  }
  return {
    unit: unit ?? "second",
    currency: "usd",
    cents,
    ...(model.capabilities.audio ? { audio_cents: audio } : {}),
  };
}
