import {
  type Cents,
  type Model,
  MODELS,
  type PriceUnit,
  type Route,
  routePrice,
} from "./catalog.ts";
import { NotFound } from "./errors.ts";
import { getModelMetrics, type ModelMetrics } from "./db/usage.ts";
import { routeStatus, type RouteStatusJson } from "./generations/breaker.ts";
import { ADAPTERS } from "./providers/registry.ts";
import type { ProviderId } from "./providers/types.ts";
import type { Services } from "./services.ts";

/**
 * The public model catalog as /v1/models (compat) and the dashboard's /models page show it:
 * only models with at least one configured provider route, priced at what a request is charged.
 */

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
  return availableModels(services).map(({ model, routes }) => ({
    ...baseJson(model, routes, services.generation.margin),
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
  const { model, routes } = found;
  const now = services.now();
  const [metrics, health] = await Promise.all([
    getModelMetrics(services.kv, model.slug, now),
    // Each route's breaker and duplicate-job counts (lib/generations/breaker.ts).
    Promise.all(routes.map((r) => routeStatus(services.kv, model.slug, r.provider, now))),
  ]);
  return {
    model: {
      id: model.slug,
      ...baseJson(model, routes, services.generation.margin),
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

function availableModels(services: Services): { model: Model; routes: Route[] }[] {
  const configured = services.generation.adapters;
  const now = services.now();
  // A route past its provider's sunset date is gone (see routeRefusal).
  const live = (r: Route) => !r.sunset || now < Date.parse(`${r.sunset}T00:00:00Z`);
  return (services.generation.models ?? MODELS).flatMap((model) => {
    const routes = model.routes.filter((r) => configured[r.provider] && live(r));
    return routes.length ? [{ model, routes }] : [];
  });
}

function providerNamed(id: ProviderId): Named {
  return { slug: id, name: ADAPTERS[id]?.name ?? id };
}

function baseJson(model: Model, routes: Route[], margin: number): ModelJsonBase {
  const c = model.capabilities;
  return {
    slug: model.slug,
    name: model.name,
    display_name: model.displayName,
    description: model.description,
    capabilities: {
      durations: c.durations,
      resolutions: c.resolutions,
      aspect_ratios: c.aspectRatios,
      image_input: c.imageInput,
      image_required: c.imageRequired ?? false,
      audio: c.audio,
      negative_prompt: c.negativePrompt,
      seed: c.seed,
      defaults: {
        duration: c.defaults.duration,
        resolution: c.defaults.resolution,
        aspect_ratio: c.defaults.aspectRatio,
        ...(c.defaults.audio !== undefined ? { audio: c.defaults.audio } : {}),
      },
    },
    pricing: cheapestPricing(model, routes, margin),
    maker: { slug: model.maker.slug, name: model.maker.name },
    family: { slug: model.family.slug, name: model.family.name },
  };
}

/**
 * Per resolution, the lowest price among the configured routes that serve it: with no `provider`
 * preference a request is routed to the cheapest route, so this is what it is charged per unit.
 */
export function cheapestPricing(model: Model, routes: Route[], margin: number): ModelPricingJson {
  // A deprecated route runs only when no other can, so it sets no price while others exist.
  const current = routes.filter((r) => r.status !== "deprecated");
  const priced = (current.length ? current : routes).map((r) => ({
    route: r,
    price: routePrice(r, margin),
  }));
  const unit = priced[0]?.price.unit ?? "second";
  const cents: Record<string, Cents> = {};
  const audio: Record<string, Cents> = {};
  for (const res of model.capabilities.resolutions) {
    for (const { route, price } of priced) {
      if (price.unit !== unit || route.unsupported?.resolutions?.includes(res)) continue;
      const plain = price.cents[res];
      if (plain === undefined) continue;
      const withAudio = price.audioCents?.[res] ?? plain;
      if (cents[res] === undefined || plain < cents[res]) cents[res] = plain;
      if (audio[res] === undefined || withAudio < audio[res]) audio[res] = withAudio;
    }
  }
  return {
    unit,
    currency: "usd",
    cents,
    ...(model.capabilities.audio ? { audio_cents: audio } : {}),
  };
}
