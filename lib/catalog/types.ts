/** What a model and its routes are: the shape of the shipped catalog and of operator entries. */
import type { EndpointFields, ProviderId } from "../providers/types.ts";
import type { Pricing } from "./money.ts";

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
  /**
   * What the upstream endpoint does with each option, text-to-video and image-to-video, as its
   * SDK request type and API reference say (checked by tests/contract). A mode left out is not
   * served by this route; `modes` left out (test catalogs) means everything the model offers.
   */
  modes?: { text?: RouteMode; image?: RouteMode };
  /** The provider's word on the endpoint; a deprecated route runs only when no other one can. */
  status?: RouteStatus;
  /** The day (YYYY-MM-DD, UTC) the provider turns the endpoint off; from then it is not offered. */
  sunset?: string;
  /** An operator route's field mapping (CATALOG_FILE): the generic adapter sends these. */
  endpoint?: EndpointFields;
}

export type RouteStatus = "preview" | "ga" | "deprecated";

/**
 * One endpoint's options. A request asking for an option the endpoint lacks is not sent there:
 * another route takes it, or it is refused with 400 naming the option (never silently dropped).
 */
export interface RouteMode {
  durations: number[];
  resolutions: string[];
  /** Durations allowed at a resolution, where narrower (Google serves 1080p only for 8 s). */
  durationsAt?: Record<string, number[]>;
  /**
   * The aspect ratios the endpoint produces. [] when it takes no aspect ratio and the video
   * follows the input image: an aspect_ratio the caller set is then refused.
   */
  aspectRatios: string[];
  seed: boolean;
  negativePrompt: boolean;
  /** "switch": an on/off field is sent; "always": every video has sound; "none": silent. */
  audio: "switch" | "always" | "none";
}

/** Options of the request that the caller set, as opposed to the model's defaults. */
export interface AskedOptions {
  aspectRatio?: boolean;
  /** False when `audio` is the first model's default, not the caller's word. */
  audio?: boolean;
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
