/**
 * The operator catalog (API.md, "Operator catalog"): a JSON file named by CATALOG_FILE that adds
 * models and routes or replaces shipped models, validated at start-up. A bad entry stops start-up
 * with the file and the entry named. Its routes are priced like shipped ones (cost × margin) and
 * run on their provider's generic adapter, which sends the fields the route declares.
 */
import { z } from "zod";
import type { ProviderId } from "../providers/types.ts";
import type { Pricing } from "./money.ts";
import { MODELS } from "./shipped.ts";
import type { Model, Route, RouteMode } from "./types.ts";

/** Our request options an operator route may map to the provider's own field names. */
export const MAPPABLE_OPTIONS = [
  "prompt",
  "duration",
  "resolution",
  "aspect_ratio",
  "image_url",
  "negative_prompt",
  "seed",
  "audio",
  "enhance_prompt",
] as const;

/** What an operator route sends when it names no `fields`: the common names. */
export const DEFAULT_FIELDS: Record<string, string> = {
  duration: "duration",
  resolution: "resolution",
  aspect_ratio: "aspect_ratio",
  image_url: "image_url",
};

/** Providers whose adapters build the body from a route's `fields` (the others have fixed APIs). */
const MAPPED_PROVIDERS = new Set<ProviderId>(["fal", "replicate"]);

const usdTable = z.record(
  z.string().regex(/^\d+p$/, "a resolution such as 720p"),
  z.number().nonnegative().max(100),
);

const routeSchema = z.strictObject({
  provider: z.enum(["gemini", "fal", "replicate", "runway", "luma"]),
  endpoint: z.string().trim().min(1).max(300).regex(/^[\w.:/-]+$/, "a model id or endpoint path"),
  price: z.strictObject({
    unit: z.enum(["second", "video"]),
    usd: usdTable,
    usd_audio: usdTable.optional(),
  }),
  durations: z.array(z.number().int().positive().max(600)).min(1),
  resolutions: z.array(z.string().regex(/^\d+p$/)).min(1),
  aspect_ratios: z.array(z.string().regex(/^\d+:\d+$/)).min(1),
  fields: z.partialRecord(z.enum(MAPPABLE_OPTIONS), z.string().trim().min(1).max(100)).optional(),
  defaults: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  image_input: z.boolean().optional(),
  audio: z.enum(["none", "switch", "always"]).optional(),
  status: z.enum(["preview", "ga", "deprecated"]).optional(),
  sunset: z.iso.date().optional(),
}).superRefine((r, ctx) => {
  const issue = (message: string, path: string[]) =>
    ctx.addIssue({ code: "custom", message, path });
  for (const res of r.resolutions) {
    if (r.price.usd[res] === undefined) issue(`no price for ${res}`, ["price", "usd"]);
    if (r.price.usd_audio && r.price.usd_audio[res] === undefined) {
      issue(`no audio price for ${res}`, ["price", "usd_audio"]);
    }
  }
  if ((r.fields || r.defaults) && !MAPPED_PROVIDERS.has(r.provider)) {
    issue(`${r.provider} routes take no fields or defaults (only fal and replicate)`, ["fields"]);
  }
  const fields = r.fields ?? DEFAULT_FIELDS;
  if (r.audio === "switch" && !fields.audio) {
    issue('audio "switch" needs fields.audio (the provider\'s on/off field)', ["fields"]);
  }
  if (r.image_input && !fields.image_url) issue("image_input needs fields.image_url", ["fields"]);
});

const modelSchema = z.strictObject({
  slug: z.string().trim().regex(/^[a-z0-9][\w.-]*\/[\w.-]+$/i, "maker/model"),
  display_name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(1000).optional(),
  maker: z.string().trim().min(1).max(100).optional(),
  routes: z.array(routeSchema).min(1),
});

export const operatorCatalogSchema = z.strictObject({ models: z.array(modelSchema) });

export type OperatorCatalog = z.infer<typeof operatorCatalogSchema>;
type OperatorModel = OperatorCatalog["models"][number];
type OperatorRoute = OperatorModel["routes"][number];

/** A CATALOG_FILE that cannot be used: the message names the file and the entry. */
export class CatalogFileError extends Error {}

const cents = (usd: Record<string, number>) =>
  Object.fromEntries(Object.entries(usd).map(([res, v]) => [res, v * 100]));

function toRoute(r: OperatorRoute): Route {
  const fields = r.fields ?? DEFAULT_FIELDS;
  const audio = r.audio ?? "none";
  const mode: RouteMode = {
    durations: r.durations,
    resolutions: r.resolutions,
    aspectRatios: r.aspect_ratios,
    seed: fields.seed !== undefined,
    negativePrompt: fields.negative_prompt !== undefined,
    audio,
  };
  const cost: Pricing = { unit: r.price.unit, cents: cents(r.price.usd) };
  // Sound at no extra charge unless the file says what it costs.
  if (audio !== "none") cost.audioCents = cents(r.price.usd_audio ?? r.price.usd);
  return {
    provider: r.provider,
    upstreamModel: r.endpoint,
    cost,
    modes: { text: mode, ...(r.image_input ? { image: mode } : {}) },
    status: r.status ?? "ga",
    ...(r.sunset ? { sunset: r.sunset } : {}),
    endpoint: { fields, ...(r.defaults ? { defaults: r.defaults } : {}) },
  };
}

const union = <T>(lists: T[][]) => [...new Set(lists.flat())];

function toModel(m: OperatorModel): Model {
  const routes = m.routes.map(toRoute);
  const modes = routes.flatMap((
    r,
  ) => [r.modes!.text!, ...(r.modes!.image ? [r.modes!.image] : [])]);
  const [maker, name] = m.slug.split("/");
  const durations = union(modes.map((x) => x.durations)).sort((a, b) => a - b);
  const audio = modes.some((x) => x.audio !== "none");
  return {
    slug: m.slug,
    name,
    displayName: m.display_name,
    description: m.description ?? m.display_name,
    maker: { slug: maker, name: m.maker ?? maker },
    family: { slug: name, name: m.display_name },
    capabilities: {
      durations,
      resolutions: union(modes.map((x) => x.resolutions)),
      aspectRatios: union(modes.map((x) => x.aspectRatios)),
      imageInput: routes.some((r) => r.modes?.image),
      audio,
      negativePrompt: modes.some((x) => x.negativePrompt),
      seed: modes.some((x) => x.seed),
      defaults: {
        duration: m.routes[0].durations[0],
        resolution: m.routes[0].resolutions[0],
        aspectRatio: m.routes[0].aspect_ratios[0],
        ...(audio ? { audio: modes.every((x) => x.audio === "always") } : {}),
      },
    },
    routes,
  };
}

/** Validates a parsed operator catalog; the error names the file and the first bad entry. */
export function parseOperatorCatalog(data: unknown, file: string): Model[] {
  const r = operatorCatalogSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`).join("")
      .replace(/^\./, "");
    const i = issue.path[0] === "models" ? issue.path[1] : undefined;
    const slug = typeof i === "number" && isRecord(data) && Array.isArray(data.models)
      ? (data.models[i] as { slug?: unknown })?.slug
      : undefined;
    const entry = typeof slug === "string" ? ` (model ${slug})` : "";
    throw new CatalogFileError(
      `CATALOG_FILE ${file}: ${path || "(top)"}${entry}: ${issue.message}`,
    );
  }
  const seen = new Set<string>();
  for (const m of r.data.models) {
    if (seen.has(m.slug)) throw new CatalogFileError(`CATALOG_FILE ${file}: model ${m.slug} twice`);
    seen.add(m.slug);
  }
  return r.data.models.map(toModel);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/**
 * The catalog this process serves: the shipped models, with the operator's file (if any) adding
 * models and replacing shipped ones of the same slug (in the shipped model's place).
 */
export async function loadCatalog(file: string | undefined, shipped = MODELS): Promise<Model[]> {
  if (!file) return shipped;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new CatalogFileError(`CATALOG_FILE ${file}: cannot be read (${(err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CatalogFileError(`CATALOG_FILE ${file}: not JSON (${(err as Error).message})`);
  }
  const extra = parseOperatorCatalog(data, file);
  const bySlug = new Map(extra.map((m) => [m.slug, m]));
  const merged = shipped.map((m) => bySlug.get(m.slug) ?? m);
  const shippedSlugs = new Set(shipped.map((m) => m.slug));
  return [...merged, ...extra.filter((m) => !shippedSlugs.has(m.slug))];
}
