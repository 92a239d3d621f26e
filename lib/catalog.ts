import type { ProviderId, VideoRequest } from "./providers/types.ts";
import { BadRequest } from "./errors.ts";

/**
 * The model catalog: data in one place, easy to review. Prices are integer cents.
 * Our price = upstream cost × margin, rounded up to whole cents per unit (second or video).
 */

export type Cents = number;
export type PriceUnit = "second" | "video";

export interface Pricing {
  unit: PriceUnit;
  /** Cents per unit by resolution, without audio. */
  cents: Record<string, number>;
  /** Cents per unit by resolution when audio is generated (models with audio). */
  audioCents?: Record<string, number>;
}

export interface Route {
  provider: ProviderId;
  /** The provider's own model id or endpoint (e.g. "fal-ai/kling-video/v2.1/master/text-to-video"). */
  upstreamModel: string;
  /** What the upstream bills us, in cents (may be fractional). */
  cost: Pricing;
  /** A fixed list price instead of cost × margin (the local model costs us nothing). */
  listPrice?: Pricing;
  /** Options this route lacks though the model has them (e.g. one host lacks 1080p). */
  unsupported?: { resolutions?: string[]; durations?: number[]; imageInput?: boolean };
}

export interface Capabilities {
  durations: number[];
  resolutions: string[];
  aspectRatios: string[];
  imageInput: boolean;
  /** True when the model needs an image (image-to-video only). */
  imageRequired?: boolean;
  audio: boolean;
  negativePrompt: boolean;
  seed: boolean;
  defaults: { duration: number; resolution: string; aspectRatio: string; audio?: boolean };
}

export interface Model {
  slug: string; // "maker/model"
  name: string;
  displayName: string;
  description: string;
  maker: { slug: string; name: string };
  family: { slug: string; name: string };
  capabilities: Capabilities;
  routes: Route[];
}

const local: Model["maker"] = { slug: "local", name: "Pipevideo" };

export const MODELS: Model[] = [
  {
    slug: "local/preview",
    name: "preview",
    displayName: "Local Preview",
    description:
      "Built-in offline model: renders an H.264 MP4 of the prompt over an animated background " +
      "with ffmpeg. Works with no network; use it to try the whole flow.",
    maker: local,
    family: { slug: "local", name: "Local" },
    capabilities: {
      durations: [1, 2, 3, 4, 5, 6, 8, 10],
      resolutions: ["360p", "480p", "720p", "1080p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: false,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 4, resolution: "480p", aspectRatio: "16:9" },
    },
    routes: [{
      provider: "local",
      upstreamModel: "preview",
      cost: { unit: "second", cents: { "360p": 0, "480p": 0, "720p": 0, "1080p": 0 } },
      listPrice: { unit: "second", cents: { "360p": 1, "480p": 1, "720p": 2, "1080p": 3 } },
    }],
  },
];

export function findModel(slug: string): Model | undefined {
  return MODELS.find((m) => m.slug === slug);
}

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

/** The charge for one request on one route, in integer cents. */
export function priceOn(route: Route, req: VideoRequest, margin: number): Cents {
  const p = routePrice(route, margin);
  const table = req.audio && p.audioCents ? p.audioCents : p.cents;
  const perUnit = table[req.resolution];
  if (perUnit === undefined) {
    throw new BadRequest(`Resolution ${req.resolution} is not offered on this route`, "resolution");
  }
  return p.unit === "second" ? perUnit * req.duration : perUnit;
}

export function routeSupports(route: Route, req: VideoRequest): boolean {
  const u = route.unsupported;
  if (!u) return true;
  if (u.resolutions?.includes(req.resolution)) return false;
  if (u.durations?.includes(req.duration)) return false;
  if (u.imageInput && req.image) return false;
  return true;
}
