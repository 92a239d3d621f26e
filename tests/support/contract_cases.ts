/**
 * Every catalog route x mode x option combination the catalog allows, with the upstream call
 * our adapter builds for it (without sending it). The contract tests check these against the
 * official SDKs; the price table test checks each against its price.
 */
import { type Model, MODELS, type Route, type RouteMode } from "../../lib/catalog/mod.ts";
import { falEndpoint, falInput } from "../../lib/providers/fal.ts";
import { geminiRequestBody } from "../../lib/providers/gemini.ts";
import { lumaRequestBody } from "../../lib/providers/luma.ts";
import { replicateInput } from "../../lib/providers/replicate.ts";
import { runwayTask } from "../../lib/providers/runway.ts";
import type { VideoRequest } from "../../lib/providers/types.ts";

/** A tiny PNG's bytes: the image every image-to-video case carries (the worker fetches it). */
export const IMAGE = {
  url: "https://example.com/first.png",
  bytes: Uint8Array.from(
    atob(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    ),
    (c) => c.charCodeAt(0),
  ),
  mimeType: "image/png",
};

export interface Case {
  model: Model;
  route: Route;
  mode: "text" | "image";
  req: VideoRequest;
  /** A short name for messages. */
  name: string;
}

export interface UpstreamCall {
  method: "POST";
  /** Path under the provider's base URL (fal: the endpoint id). */
  path: string;
  body: Record<string, unknown>;
}

function* product<T>(lists: T[][]): Generator<T[]> {
  if (lists.length === 0) {
    yield [];
    return;
  }
  for (const head of lists[0]) for (const tail of product(lists.slice(1))) yield [head, ...tail];
}

/** Every request a route's mode accepts, one per combination of its options. */
export function modeRequests(model: Model, mode: RouteMode, image: boolean): VideoRequest[] {
  const out: VideoRequest[] = [];
  // Unsaid audio is a case of its own: a models[] list whose other model has no sound.
  const audios = mode.audio === "switch"
    ? [undefined, false, true]
    : mode.audio === "always"
    ? [undefined, true]
    : [undefined, false];
  // [] means the video follows the image: the request carries the model default, unasked.
  const aspects = mode.aspectRatios.length
    ? mode.aspectRatios
    : [model.capabilities.defaults.aspectRatio];
  for (const resolution of mode.resolutions) {
    const durations = mode.durationsAt?.[resolution] ?? mode.durations;
    for (
      const [duration, aspectRatio, seed, negativePrompt, audio] of product<unknown>([
        durations,
        aspects,
        mode.seed ? [undefined, 7] : [undefined],
        mode.negativePrompt ? [undefined, "blurry, low quality"] : [undefined],
        audios,
      ])
    ) {
      const req: VideoRequest = {
        prompt: "a red fox running through snow",
        duration: duration as number,
        resolution,
        aspectRatio: aspectRatio as string,
        ...(image ? { image: IMAGE } : {}),
        ...(seed !== undefined ? { seed: seed as number } : {}),
        ...(negativePrompt !== undefined ? { negativePrompt: negativePrompt as string } : {}),
        ...(audio !== undefined ? { audio: audio as boolean } : {}),
      };
      out.push(req);
    }
  }
  return out;
}

/** All cases of the catalog, optionally of one provider. */
export function catalogCases(provider?: Route["provider"]): Case[] {
  const out: Case[] = [];
  for (const model of MODELS) {
    for (const route of model.routes) {
      if (provider && route.provider !== provider) continue;
      for (const mode of ["text", "image"] as const) {
        const m = route.modes?.[mode];
        if (!m) continue;
        for (const req of modeRequests(model, m, mode === "image")) {
          const opts = [
            `${req.duration}s`,
            req.resolution,
            req.aspectRatio,
            req.seed !== undefined ? "seed" : "",
            req.negativePrompt ? "neg" : "",
            req.audio !== undefined ? `audio=${req.audio}` : "",
          ].filter(Boolean).join(" ");
          out.push({
            model,
            route,
            mode,
            req,
            name: `${model.slug} on ${route.provider} (${mode}: ${opts})`,
          });
        }
      }
    }
  }
  return out;
}

/** The call our adapter makes to start this case upstream (what submit() sends). */
export function upstreamCall(c: Case): UpstreamCall {
  const { route, req } = c;
  switch (route.provider) {
    case "fal": {
      const endpoint = falEndpoint(route.upstreamModel, req.image !== undefined);
      return { method: "POST", path: endpoint, body: falInput(endpoint, req) };
    }
    case "gemini":
      return {
        method: "POST",
        path: `/v1beta/models/${route.upstreamModel}:predictLongRunning`,
        body: geminiRequestBody(req),
      };
    case "luma":
      return {
        method: "POST",
        path: "/generations/video",
        body: lumaRequestBody(route.upstreamModel, req),
      };
    case "replicate":
      return {
        method: "POST",
        path: `/v1/models/${route.upstreamModel}/predictions`,
        body: { input: replicateInput(route.upstreamModel, req) },
      };
    case "runway": {
      const { path, body } = runwayTask(route.upstreamModel, req);
      return { method: "POST", path, body: body as Record<string, unknown> };
    }
    case "local":
      return { method: "POST", path: "local", body: { ...req } };
  }
}

/**
 * What the upstream is asked to make, read back from the body in each provider's own field
 * names: the price must agree with exactly this.
 */
export function askedOfUpstream(
  c: Case,
): { duration: number; resolution: string | null; audio: boolean } {
  const b = upstreamCall(c).body as Record<string, unknown>;
  const mode = c.route.modes![c.mode]!;
  // An endpoint with one resolution and no field makes that resolution.
  const fixed = mode.resolutions.length === 1 ? mode.resolutions[0] : null;
  switch (c.route.provider) {
    case "fal":
      return {
        duration: parseInt(String(b.duration)),
        resolution: (b.resolution as string) ?? fixed,
        audio: mode.audio === "always" || b.generate_audio === true,
      };
    case "gemini": {
      const p = b.parameters as Record<string, unknown>;
      return {
        duration: p.durationSeconds as number,
        resolution: p.resolution as string,
        audio: true, // Veo on the Gemini API always makes sound
      };
    }
    case "luma":
      return {
        duration: parseInt(String(b.duration)),
        resolution: b.resolution as string,
        audio: false,
      };
    case "replicate": {
      const i = b.input as Record<string, unknown>;
      return {
        duration: i.duration as number,
        resolution: (i.resolution as string) ?? fixed,
        audio: i.generate_audio === true,
      };
    }
    case "runway":
      return {
        duration: b.duration as number,
        // Runway's ratio is a pixel size: its short side is the resolution class.
        resolution: Math.min(...String(b.ratio).split(":").map(Number)) >= 1080 ? "1080p" : "720p",
        audio: false,
      };
    case "local":
      return { duration: c.req.duration, resolution: c.req.resolution, audio: false };
  }
}
