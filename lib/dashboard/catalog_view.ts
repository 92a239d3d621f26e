import type { Services } from "../services.ts";
import { MODELS } from "../catalog/mod.ts";
import { baseJson, honouredModes, listModels, type ModelListItem } from "../catalog/public.ts";

/** A catalog model as /models and the home estimator show it, offered here or not. */
export interface CatalogEntry {
  model: ModelListItem;
  /** False when no provider of the model is configured on this server. */
  configured: boolean;
}

/**
 * Every catalog model with its price and capabilities: the configured ones as /v1/models lists
 * them, the others priced on all their live routes (what they would cost once configured).
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
    return [{
      configured: false,
      model: {
        ...baseJson(model, modes),
        routes: routes.map((r) => ({ provider: r.provider, host: r.provider })),
      },
    }];
  });
}
