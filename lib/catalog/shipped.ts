/**
 * The shipped catalog: data in one place, easy to review, each route citing its source. Prices
 * are the upstream's cost in cents; our price is cost × margin, rounded up (pricing.ts). The
 * data is checked against the catalog schema (operator.ts) by catalog_test.
 */
import type { Model, RouteMode } from "./types.ts";

const local: Model["maker"] = { slug: "local", name: "Pipevideo" };

// Endpoint modes, read 2026-11-29 from the SDKs' request types (@fal-ai/client's endpoint map,
// @runwayml/sdk, lumaai, @google/genai) and the providers' API references (Replicate's model
// schemas); tests/contract type-checks every combination below against those SDKs.
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const silent = { audio: "none" } as const;
/** Same options, but the endpoint takes no aspect ratio: the video follows the input image. */
const followsImage = (m: RouteMode): RouteMode => ({ ...m, aspectRatios: [] });

// Veo on fal: Veo31Input / Veo31ImageToVideoInput (aspect_ratio, duration "4s", generate_audio,
// negative_prompt, resolution, seed, auto_fix). Image-to-video: aspect_ratio defaults to "auto"
// (follow the image), sent unless the caller chose one; auto_fix (default true upstream, it
// rewrites prompts that break the policy) is sent as enhance_prompt says, false by default.
const FAL_VEO: RouteMode = {
  durations: [4, 6, 8],
  resolutions: ["720p", "1080p"],
  aspectRatios: ["16:9", "9:16"],
  seed: true,
  negativePrompt: true,
  audio: "switch",
};
// Veo on the Gemini API: no seed (the Developer API refuses it; only Vertex takes one), sound
// always on, 1080p only for 8-second clips.
const GEMINI_VEO: RouteMode = {
  ...FAL_VEO,
  durationsAt: { "1080p": [8] },
  seed: false,
  audio: "always",
};

// Kling 2.5 Turbo Pro (fal KlingVideoV15ProTextToVideoInput; Replicate's schema): no seed.
const KLING_25: RouteMode = {
  durations: [5, 10],
  resolutions: ["1080p"],
  aspectRatios: ["16:9", "9:16", "1:1"],
  seed: false,
  negativePrompt: true,
  ...silent,
};
const KLING_3: RouteMode = { ...KLING_25, durations: range(3, 15), audio: "switch" };
// KlingVideoV26Pro{TextTo,ImageTo}VideoInput (@fal-ai/client 1.10.1, read 2026-12-08): duration
// "5" | "10", generate_audio, negative_prompt, no seed; the image twin takes start_image_url and
// has no aspect_ratio.
const KLING_26: RouteMode = { ...KLING_25, audio: "switch" };
// KlingVideoV3Standard{TextTo,ImageTo}VideoInput: as Kling 3.0 Pro, at 720p (Standard).
const KLING_3_STD: RouteMode = { ...KLING_3, resolutions: ["720p"] };
const HAILUO: RouteMode = {
  durations: [6, 10],
  resolutions: ["768p"],
  aspectRatios: ["16:9"],
  seed: false,
  negativePrompt: false,
  ...silent,
};
// Wan25Preview{TextTo,ImageTo}VideoInput: "audio_url … If not provided, the model auto-generates
// matching background music" (@fal-ai/client 1.10.1, read 2026-12-08): every video has sound.
const WAN: RouteMode = {
  durations: [5, 10],
  resolutions: ["480p", "720p", "1080p"],
  aspectRatios: ["16:9", "9:16", "1:1"],
  seed: true,
  negativePrompt: true,
  audio: "always",
};
// BytedanceSeedanceV1Pro{TextTo,ImageTo}VideoInput: no negative_prompt; image-to-video's
// aspect_ratio defaults to "auto" (follow the image), sent unless the caller chose one.
const SEEDANCE: RouteMode = {
  durations: [5, 10],
  resolutions: ["480p", "720p", "1080p"],
  aspectRatios: ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
  seed: true,
  negativePrompt: false,
  ...silent,
};
// Seedance 1.0 Pro Fast: the same fields, durations 2..12.
const SEEDANCE_FAST: RouteMode = { ...SEEDANCE, durations: range(2, 12) };
// Seedance 1.5 Pro: durations 4..12 and a generate_audio switch (default true upstream).
const SEEDANCE_15: RouteMode = { ...SEEDANCE, durations: range(4, 12), audio: "switch" };
// lumaai GenerationCreateParams: aspect_ratio, duration "5s"/"9s", resolution, keyframes.
const LUMA_RAY2: RouteMode = {
  durations: [5, 9],
  resolutions: ["540p", "720p", "1080p"],
  aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21"],
  seed: false,
  negativePrompt: false,
  ...silent,
};

// Runway gen4.5 (@runwayml/sdk 4.20.1 TextToVideoCreateParams.Gen4_5 and
// ImageToVideoCreateParams.Gen4_5, read 2026-12-08): duration 2..10, seed; text-to-video ratios
// 1280:720 | 720:1280, image-to-video the six Gen-4 ratios. Silent.
const RUNWAY_GEN45: RouteMode = {
  durations: range(2, 10),
  resolutions: ["720p"],
  aspectRatios: ["16:9", "9:16"],
  seed: true,
  negativePrompt: false,
  ...silent,
};
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
      status: "ga",
      modes: {
        text: {
          durations: [1, 2, 3, 4, 5, 6, 8, 10],
          resolutions: ["360p", "480p", "720p", "1080p"],
          aspectRatios: ["16:9", "9:16", "1:1"],
          seed: true,
          negativePrompt: false,
          ...silent,
        },
      },
      cost: { unit: "second", cents: { "360p": 0, "480p": 0, "720p": 0, "1080p": 0 } },
      listPrice: { unit: "second", cents: { "360p": 1, "480p": 1, "720p": 2, "1080p": 3 } },
    }],
  },
  // Real models. Upstream prices were read 2026-11-27 with the search tool, mostly from secondary
  // pages quoting the providers' pricing pages (ai.google.dev/gemini-api/docs/pricing, fal.ai model
  // pages, replicate.com model pages, docs.dev.runwayml.com pricing, Luma API pricing). Each entry
  // says how sure the number is; re-check the provider page before going live.
  {
    slug: "google/veo-3.1",
    name: "veo-3.1",
    displayName: "Veo 3.1",
    description:
      "Google DeepMind's flagship video model: 720p/1080p clips of 4 to 8 seconds with native " +
      "sound (dialogue, effects, ambience), strong prompt adherence, image-to-video.",
    maker: { slug: "google", name: "Google" },
    family: { slug: "veo", name: "Veo" },
    capabilities: {
      durations: [4, 6, 8],
      resolutions: ["720p", "1080p"],
      aspectRatios: ["16:9", "9:16"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: true,
      defaults: { duration: 8, resolution: "720p", aspectRatio: "16:9", audio: true },
    },
    routes: [
      {
        // Gemini API: $0.40/s at 720p and 1080p, audio always included (fairly sure).
        // Retired: the veo-3.1-*-preview ids on the Gemini Developer API were shut down on
        // 2026-10-22 (third-party notice quoted in issue 22; Google answers 404 NOT_FOUND), so
        // this route is never ranked; a 404 from it would fail over (faults.ts). Where Veo is
        // reached now (@google/genai 2.32 ApiClient / Models.generateVideosInternal, read
        // 2026-12-08): Vertex AI, `new GoogleGenAI({vertexai: true, ...})`, POST
        // {base}/v1beta1/{model}:predictLongRunning, polled with POST {model}:fetchPredictOperation
        // {operationName}. Credentials: an API key alone (Vertex express mode, base
        // https://aiplatform.googleapis.com/, model "publishers/google/models/veo-3.1-generate-001",
        // header x-goog-api-key), or a GCP project + location with OAuth (service account; base
        // https://{location}-aiplatform.googleapis.com/, model "projects/{p}/locations/{l}/
        // publishers/google/models/…"). Vertex takes seed and generateAudio. See docs/providers.md.
        provider: "gemini",
        upstreamModel: "veo-3.1-generate-preview",
        status: "deprecated",
        sunset: "2026-10-22",
        modes: { text: GEMINI_VEO, image: GEMINI_VEO },
        cost: {
          unit: "second",
          cents: { "720p": 40, "1080p": 40 },
          audioCents: { "720p": 40, "1080p": 40 },
        },
      },
      {
        // fal.ai fal-ai/veo3.1: $0.20/s without audio, $0.40/s with audio (fairly sure).
        provider: "fal",
        upstreamModel: "fal-ai/veo3.1",
        status: "ga",
        modes: { text: FAL_VEO, image: FAL_VEO },
        cost: {
          unit: "second",
          cents: { "720p": 20, "1080p": 20 },
          audioCents: { "720p": 40, "1080p": 40 },
        },
      },
    ],
  },
  {
    slug: "google/veo-3.1-fast",
    name: "veo-3.1-fast",
    displayName: "Veo 3.1 Fast",
    description:
      "The faster, cheaper Veo 3.1: the same controls and native audio, tuned for iteration.",
    maker: { slug: "google", name: "Google" },
    family: { slug: "veo", name: "Veo" },
    capabilities: {
      durations: [4, 6, 8],
      resolutions: ["720p", "1080p"],
      aspectRatios: ["16:9", "9:16"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: true,
      defaults: { duration: 8, resolution: "720p", aspectRatio: "16:9", audio: true },
    },
    routes: [
      {
        // Gemini API after the April 2026 cut: $0.10/s 720p, $0.12/s 1080p, audio included
        // (from secondary sources; before the cut it was $0.15/s). Retired on 2026-10-22 like
        // veo-3.1-generate-preview above: never ranked, fal serves the model.
        provider: "gemini",
        upstreamModel: "veo-3.1-fast-generate-preview",
        status: "deprecated",
        sunset: "2026-10-22",
        modes: { text: GEMINI_VEO, image: GEMINI_VEO },
        cost: {
          unit: "second",
          cents: { "720p": 10, "1080p": 12 },
          audioCents: { "720p": 10, "1080p": 12 },
        },
      },
      {
        // fal.ai fal-ai/veo3.1/fast: $0.10/s without audio, $0.15/s with audio (fairly sure).
        provider: "fal",
        upstreamModel: "fal-ai/veo3.1/fast",
        status: "ga",
        modes: { text: FAL_VEO, image: FAL_VEO },
        cost: {
          unit: "second",
          cents: { "720p": 10, "1080p": 10 },
          audioCents: { "720p": 15, "1080p": 15 },
        },
      },
    ],
  },
  {
    slug: "google/veo-3.1-lite",
    name: "veo-3.1-lite",
    displayName: "Veo 3.1 Lite",
    description:
      "Google's budget tier of Veo 3.1: the same controls and native audio at 720p/1080p, " +
      "4 to 8 seconds, for drafts and volume.",
    maker: { slug: "google", name: "Google" },
    family: { slug: "veo", name: "Veo" },
    capabilities: {
      durations: [4, 6, 8],
      resolutions: ["720p", "1080p"],
      aspectRatios: ["16:9", "9:16"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: true,
      defaults: { duration: 8, resolution: "720p", aspectRatio: "16:9", audio: true },
    },
    routes: [{
      // fal.ai fal-ai/veo3.1/lite (Veo31LiteInput / Veo31LiteImageToVideoInput in
      // @fal-ai/client 1.10.1: the Veo 3.1 fields, 720p/1080p, image-to-video aspect "auto").
      // $0.05/s, one price with or without audio (issue 22's review; videopromptkit.com's fal
      // Veo 3.1 Lite guide, read 2026-12-08). Unsure: a secondary page, not fal's own.
      provider: "fal",
      upstreamModel: "fal-ai/veo3.1/lite",
      status: "ga",
      modes: { text: FAL_VEO, image: FAL_VEO },
      cost: {
        unit: "second",
        cents: { "720p": 5, "1080p": 5 },
        audioCents: { "720p": 5, "1080p": 5 },
      },
    }],
  },
  {
    slug: "kwaivgi/kling-v2.5-turbo-pro",
    name: "kling-v2.5-turbo-pro",
    displayName: "Kling 2.5 Turbo Pro",
    description:
      "Kuaishou's fast Kling 2.5 Turbo at pro quality: 1080p, 5 or 10 seconds, fluid motion " +
      "and good prompt following, text or image to video. No audio.",
    maker: { slug: "kwaivgi", name: "Kuaishou" },
    family: { slug: "kling", name: "Kling" },
    capabilities: {
      durations: [5, 10],
      resolutions: ["1080p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: true,
      audio: false,
      negativePrompt: true,
      seed: false,
      defaults: { duration: 5, resolution: "1080p", aspectRatio: "16:9" },
    },
    routes: [
      {
        // fal.ai: $0.35 per 5 s plus $0.07 per extra second = $0.07/s (sure).
        provider: "fal",
        upstreamModel: "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
        status: "ga",
        // The image-to-video twin has no aspect_ratio field.
        modes: { text: KLING_25, image: followsImage(KLING_25) },
        cost: { unit: "second", cents: { "1080p": 7 } },
      },
      {
        // Replicate kwaivgi/kling-v2.5-turbo-pro: $0.07/s (fairly sure).
        provider: "replicate",
        upstreamModel: "kwaivgi/kling-v2.5-turbo-pro",
        status: "ga",
        // Replicate's schema: aspect_ratio "is ignored if start_image is provided"; no seed.
        modes: { text: KLING_25, image: followsImage(KLING_25) },
        cost: { unit: "second", cents: { "1080p": 7 } },
      },
    ],
  },
  {
    slug: "kwaivgi/kling-v3-pro",
    name: "kling-v3-pro",
    displayName: "Kling 3.0 Pro",
    description:
      "Kling 3.0 at pro quality: 1080p clips of 3 to 15 seconds with optional native audio, " +
      "multi-shot storytelling, text or image to video.",
    maker: { slug: "kwaivgi", name: "Kuaishou" },
    family: { slug: "kling", name: "Kling" },
    capabilities: {
      durations: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      resolutions: ["1080p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: false,
      defaults: { duration: 5, resolution: "1080p", aspectRatio: "16:9", audio: false },
    },
    routes: [{
      // fal.ai: $0.112/s without audio, $0.168/s with audio (from a secondary copy of fal's page).
      provider: "fal",
      upstreamModel: "fal-ai/kling-video/v3/pro/text-to-video",
      status: "ga",
      // KlingVideoV3Pro{TextTo,ImageTo}VideoInput: the image twin takes start_image_url and has
      // no aspect_ratio; neither takes a seed.
      modes: { text: KLING_3, image: followsImage(KLING_3) },
      cost: { unit: "second", cents: { "1080p": 11.2 }, audioCents: { "1080p": 16.8 } },
    }],
  },
  {
    slug: "kwaivgi/kling-v2.6-pro",
    name: "kling-v2.6-pro",
    displayName: "Kling 2.6 Pro",
    description:
      "Kling 2.6 at pro quality: 1080p clips of 5 or 10 seconds with optional native audio " +
      "(speech and sound), text or image to video.",
    maker: { slug: "kwaivgi", name: "Kuaishou" },
    family: { slug: "kling", name: "Kling" },
    capabilities: {
      durations: [5, 10],
      resolutions: ["1080p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: false,
      defaults: { duration: 5, resolution: "1080p", aspectRatio: "16:9", audio: false },
    },
    routes: [{
      // fal.ai fal-ai/kling-video/v2.6/pro: $0.07/s without audio, $0.14/s with audio (issue
      // 22's review of fal's model page, 2026-12-08; fairly sure).
      provider: "fal",
      upstreamModel: "fal-ai/kling-video/v2.6/pro/text-to-video",
      status: "ga",
      modes: { text: KLING_26, image: followsImage(KLING_26) },
      cost: { unit: "second", cents: { "1080p": 7 }, audioCents: { "1080p": 14 } },
    }],
  },
  {
    slug: "kwaivgi/kling-v3-standard",
    name: "kling-v3-standard",
    displayName: "Kling 3.0 Standard",
    description:
      "Kling 3.0 at standard quality: 720p clips of 3 to 15 seconds with optional native audio, " +
      "text or image to video, cheaper than Pro.",
    maker: { slug: "kwaivgi", name: "Kuaishou" },
    family: { slug: "kling", name: "Kling" },
    capabilities: {
      durations: range(3, 15),
      resolutions: ["720p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: false,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9", audio: false },
    },
    routes: [{
      // fal.ai fal-ai/kling-video/v3/standard: $0.084/s without audio, $0.126/s with audio
      // (issue 22's review of fal's model page, 2026-12-08; fairly sure).
      provider: "fal",
      upstreamModel: "fal-ai/kling-video/v3/standard/text-to-video",
      status: "ga",
      modes: { text: KLING_3_STD, image: followsImage(KLING_3_STD) },
      cost: { unit: "second", cents: { "720p": 8.4 }, audioCents: { "720p": 12.6 } },
    }],
  },
  {
    slug: "minimax/hailuo-02",
    name: "hailuo-02",
    displayName: "MiniMax Hailuo 02",
    description:
      "MiniMax's Hailuo 02: strong physics and motion at low cost, 6 or 10 seconds at 768p " +
      "(1080p for 6 s on Replicate), text or image to video.",
    maker: { slug: "minimax", name: "MiniMax" },
    family: { slug: "hailuo", name: "Hailuo" },
    capabilities: {
      durations: [6, 10],
      resolutions: ["768p", "1080p"],
      aspectRatios: ["16:9"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: false,
      defaults: { duration: 6, resolution: "768p", aspectRatio: "16:9" },
    },
    routes: [
      {
        // fal.ai standard endpoint (768p only): $0.045/s (fairly sure).
        provider: "fal",
        upstreamModel: "fal-ai/minimax/hailuo-02/standard/text-to-video",
        status: "ga",
        // StandardTextToVideoHailuo02Input has neither aspect_ratio nor resolution: 768p 16:9.
        modes: { text: HAILUO, image: followsImage(HAILUO) },
        cost: { unit: "second", cents: { "768p": 4.5 } },
      },
      {
        // Replicate minimax/hailuo-02: $0.045/s at 768p, $0.08/s at 1080p (fairly sure);
        // 1080p is 6 s only there, a 10 s 1080p request fails upstream and is refunded.
        provider: "replicate",
        upstreamModel: "minimax/hailuo-02",
        status: "ga",
        // Replicate's schema has no aspect_ratio; 1080p is 6 s only.
        modes: {
          text: { ...HAILUO, resolutions: ["768p", "1080p"], durationsAt: { "1080p": [6] } },
          image: followsImage({
            ...HAILUO,
            resolutions: ["768p", "1080p"],
            durationsAt: { "1080p": [6] },
          }),
        },
        cost: { unit: "second", cents: { "768p": 4.5, "1080p": 8 } },
      },
    ],
  },
  {
    slug: "minimax/hailuo-2.3",
    name: "hailuo-2.3",
    displayName: "MiniMax Hailuo 2.3",
    description:
      "MiniMax's Hailuo 2.3: better motion and physics than 02, 6 or 10 seconds at 768p, " +
      "text or image to video.",
    maker: { slug: "minimax", name: "MiniMax" },
    family: { slug: "hailuo", name: "Hailuo" },
    capabilities: {
      durations: [6, 10],
      resolutions: ["768p"],
      aspectRatios: ["16:9"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: false,
      defaults: { duration: 6, resolution: "768p", aspectRatio: "16:9" },
    },
    routes: [{
      // fal.ai fal-ai/minimax/hailuo-2.3/standard: $0.28 per 6 s video, $0.56 per 10 s
      // (fal.ai/models/fal-ai/minimax/hailuo-2.3/standard/text-to-video/llms.txt, read
      // 2026-12-08). Priced per second at the 10 s rate, $0.056/s: a 6 s clip costs us $0.28
      // and is charged as $0.336 before margin (never under). MinimaxHailuo23Standard*Input
      // (@fal-ai/client 1.10.1): duration "6" | "10", prompt_optimizer, no aspect ratio.
      provider: "fal",
      upstreamModel: "fal-ai/minimax/hailuo-2.3/standard/text-to-video",
      status: "ga",
      modes: { text: HAILUO, image: followsImage(HAILUO) },
      cost: { unit: "second", cents: { "768p": 5.6 } },
    }],
  },
  {
    slug: "alibaba/wan-2.5",
    name: "wan-2.5",
    displayName: "Wan 2.5",
    description:
      "Alibaba's Wan 2.5 (preview): 480p to 1080p clips of 5 or 10 seconds with good motion " +
      "and generated background music, text or image to video, negative prompts and seeds.",
    maker: { slug: "alibaba", name: "Alibaba" },
    family: { slug: "wan", name: "Wan" },
    capabilities: {
      durations: [5, 10],
      resolutions: ["480p", "720p", "1080p"],
      aspectRatios: ["16:9", "9:16", "1:1"],
      imageInput: true,
      audio: true,
      negativePrompt: true,
      seed: true,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9", audio: true },
    },
    routes: [{
      // fal.ai fal-ai/wan-25-preview: $0.05/s 480p, $0.10/s 720p, $0.15/s 1080p (fairly sure).
      provider: "fal",
      upstreamModel: "fal-ai/wan-25-preview/text-to-video",
      status: "preview",
      modes: {
        // Wan25PreviewTextToVideoInput: resolution 720p | 1080p only (480p is image-to-video).
        text: { ...WAN, resolutions: ["720p", "1080p"] },
        // Wan25PreviewImageToVideoInput: no aspect_ratio.
        image: followsImage(WAN),
      },
      // The music comes at no extra charge: the same price with sound.
      cost: {
        unit: "second",
        cents: { "480p": 5, "720p": 10, "1080p": 15 },
        audioCents: { "480p": 5, "720p": 10, "1080p": 15 },
      },
    }],
  },
  {
    slug: "bytedance/seedance-1-pro",
    name: "seedance-1-pro",
    displayName: "Seedance 1.0 Pro",
    description:
      "ByteDance's Seedance 1.0 Pro: cinematic multi-shot video up to 1080p, 5 or 10 seconds, " +
      "many aspect ratios, text or image to video.",
    maker: { slug: "bytedance", name: "ByteDance" },
    family: { slug: "seedance", name: "Seedance" },
    capabilities: {
      durations: [5, 10],
      resolutions: ["480p", "720p", "1080p"],
      aspectRatios: ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 5, resolution: "1080p", aspectRatio: "16:9" },
    },
    routes: [{
      // fal.ai bills tokens (w×h×fps×s/1024 at about $2.50 per million): about $0.62 per 5 s at
      // 1080p, so ≈ 12.4 / 5.4 / 2.4 cents per second at 1080p / 720p / 480p (unsure: derived).
      provider: "fal",
      upstreamModel: "fal-ai/bytedance/seedance/v1/pro/text-to-video",
      status: "ga",
      modes: { text: SEEDANCE, image: SEEDANCE },
      cost: { unit: "second", cents: { "480p": 2.4, "720p": 5.4, "1080p": 12.4 } },
    }],
  },
  {
    slug: "bytedance/seedance-1-pro-fast",
    name: "seedance-1-pro-fast",
    displayName: "Seedance 1.0 Pro Fast",
    description:
      "The fast, low-cost Seedance 1.0 Pro: 480p to 1080p clips of 2 to 12 seconds, many aspect " +
      "ratios, text or image to video.",
    maker: { slug: "bytedance", name: "ByteDance" },
    family: { slug: "seedance", name: "Seedance" },
    capabilities: {
      durations: range(2, 12),
      resolutions: ["480p", "720p", "1080p"],
      aspectRatios: ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 5, resolution: "1080p", aspectRatio: "16:9" },
    },
    routes: [{
      // fal.ai fal-ai/bytedance/seedance/v1/pro/fast: $1 per million video tokens, tokens =
      // h × w × fps × s / 1024, "1080p 5 s ≈ $0.245" (fal's llms.txt, read 2026-12-08). At 24 fps
      // that is 0.97 / 2.16 / 4.86 cents a second at 480p / 720p / 1080p, rounded up.
      // BytedanceSeedanceV1ProFast{TextTo,ImageTo}VideoInput (@fal-ai/client 1.10.1).
      provider: "fal",
      upstreamModel: "fal-ai/bytedance/seedance/v1/pro/fast/text-to-video",
      status: "ga",
      modes: { text: SEEDANCE_FAST, image: SEEDANCE_FAST },
      cost: { unit: "second", cents: { "480p": 1, "720p": 2.2, "1080p": 4.9 } },
    }],
  },
  {
    slug: "bytedance/seedance-1.5-pro",
    name: "seedance-1.5-pro",
    displayName: "Seedance 1.5 Pro",
    description:
      "ByteDance's Seedance 1.5 Pro: video and synchronized sound (speech, effects) generated " +
      "together, 4 to 12 seconds up to 1080p, text or image to video.",
    maker: { slug: "bytedance", name: "ByteDance" },
    family: { slug: "seedance", name: "Seedance" },
    capabilities: {
      durations: range(4, 12),
      resolutions: ["480p", "720p", "1080p"],
      aspectRatios: ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
      imageInput: true,
      audio: true,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9", audio: true },
    },
    routes: [{
      // fal.ai fal-ai/bytedance/seedance/v1.5/pro: $2.4 per million video tokens with audio,
      // $1.2 without; "720p 5 s with audio ≈ $0.26" (fal's llms.txt, read 2026-12-08). At 24 fps:
      // 1.17 / 2.59 / 5.83 cents a second plain, twice that with audio, rounded up.
      // BytedanceSeedanceV15Pro{TextTo,ImageTo}VideoInput (@fal-ai/client 1.10.1): generate_audio.
      provider: "fal",
      upstreamModel: "fal-ai/bytedance/seedance/v1.5/pro/text-to-video",
      status: "ga",
      modes: { text: SEEDANCE_15, image: SEEDANCE_15 },
      cost: {
        unit: "second",
        cents: { "480p": 1.2, "720p": 2.6, "1080p": 5.9 },
        audioCents: { "480p": 2.4, "720p": 5.2, "1080p": 11.7 },
      },
    }],
  },
  {
    slug: "luma/ray-2",
    name: "ray-2",
    displayName: "Luma Ray 2",
    description:
      "Luma's Ray 2: realistic, coherent motion with good camera control, 5 or 9 seconds up to " +
      "1080p, text or image to video.",
    maker: { slug: "luma", name: "Luma AI" },
    family: { slug: "ray", name: "Ray" },
    capabilities: {
      durations: [5, 9],
      resolutions: ["540p", "720p", "1080p"],
      aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: false,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9" },
    },
    routes: [{
      // Luma bills by pixels generated (~$0.0064 per million): ≈ 8 / 14.2 / 31.9 cents per second
      // at 540p / 720p / 1080p; secondary pages quote "$0.08/s" (540p). Unsure: derived.
      provider: "luma",
      upstreamModel: "ray-2",
      status: "ga",
      modes: { text: LUMA_RAY2, image: LUMA_RAY2 },
      cost: { unit: "second", cents: { "540p": 8, "720p": 14.2, "1080p": 31.9 } },
    }],
  },
  {
    slug: "runway/gen4-turbo",
    name: "gen4-turbo",
    displayName: "Runway Gen-4 Turbo",
    description:
      "Runway's fast Gen-4 model: animates an input image into a 720p clip of 2 to 10 seconds " +
      "following the prompt. Needs an image.",
    maker: { slug: "runway", name: "Runway" },
    family: { slug: "gen4", name: "Gen-4" },
    capabilities: {
      durations: [2, 3, 4, 5, 6, 7, 8, 9, 10],
      resolutions: ["720p"],
      aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
      imageInput: true,
      imageRequired: true,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9" },
    },
    routes: [{
      // Runway API: 5 credits per second at $0.01 per credit = 5 cents/s (sure).
      provider: "runway",
      upstreamModel: "gen4_turbo",
      status: "ga",
      // ImageToVideoCreateParams.Gen4Turbo: image only, ratio from the aspect ratio, seed.
      modes: {
        image: {
          durations: range(2, 10),
          resolutions: ["720p"],
          aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
          seed: true,
          negativePrompt: false,
          ...silent,
        },
      },
      cost: { unit: "second", cents: { "720p": 5 } },
    }],
  },
  {
    slug: "runway/gen4.5",
    name: "gen4.5",
    displayName: "Runway Gen-4.5",
    description:
      "Runway's Gen-4.5: 720p clips of 2 to 10 seconds from a prompt alone or an input image, " +
      "with strong motion and prompt adherence.",
    maker: { slug: "runway", name: "Runway" },
    family: { slug: "gen4", name: "Gen-4" },
    capabilities: {
      durations: range(2, 10),
      resolutions: ["720p"],
      aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
      imageInput: true,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 5, resolution: "720p", aspectRatio: "16:9" },
    },
    routes: [{
      // Runway API: 12 credits per second at $0.01 per credit = 12 cents/s (docs.dev.runwayml.com
      // pricing, as quoted in issue 22's review, 2026-12-08).
      provider: "runway",
      upstreamModel: "gen4.5",
      status: "ga",
      modes: {
        text: RUNWAY_GEN45,
        image: { ...RUNWAY_GEN45, aspectRatios: ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"] },
      },
      cost: { unit: "second", cents: { "720p": 12 } },
    }],
  },
];

export function findModel(slug: string): Model | undefined {
  return MODELS.find((m) => m.slug === slug);
}
