import type { Services } from "../services.ts";
import { MODELS } from "../catalog/mod.ts";
import { honouredModes, listModels, type ModelListItem } from "../catalog/public.ts";

/** A catalog model as /models and the home estimator show it, offered here or not. */
export interface CatalogEntry {
  model: ModelListItem;
  /** False when no provider of the model is configured on this server. */
  configured: boolean;
}

/**
 * Every catalog model with its price and capabilities: the configured ones as /v1/models lists
 * them, the others priced on all their live routes (what they would cost once configured).
 * Read through lib/models.ts's exported functions only.
 */
export function everyCatalogModel(services: Services): CatalogEntry[] {
  const offered = new Map(listModels(services).map((m) => [m.slug, m]));
  const now = services.now();
  const { margin } = services.generation;
  return (services.generation.models ?? MODELS).flatMap((model): CatalogEntry[] => {
    const listed = offered.get(model.slug);
    if (listed) return [{ model: listed, configured: true }];
    const routes = model.routes.filter((r) =>
      !r.sunset || now < Date.parse(`${r.sunset}T00:00:00Z`)
    );
    const modes = honouredModes(model, routes, margin);
    const flat = modes.text ?? modes.image;
    if (!flat) return [];
    const c = model.capabilities;
    return [{
      configured: false,
      model: {
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
        maker: { ...model.maker },
        family: { ...model.family },
        routes: routes.map((r) => ({ provider: r.provider, host: r.provider })),
      },
    }];
  });
}
