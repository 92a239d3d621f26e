import { z } from "zod";
import { AppError, BadRequest } from "../errors.ts";
import { generationBodySchema, type GenerationInput } from "../generations/schema.ts";
import type { GenerationRecord } from "../db/generations.ts";
import type { PresentedGeneration } from "./generation.ts";
import { rejectUnknownFields } from "./fields.ts";

/**
 * The OpenAI Videos API shape (`/v1/videos`) as another face of the same generation: its
 * request fields mapped onto GenerationInput, the generation shown as OpenAI's `video` object
 * (with our fields beside), and OpenAI's error envelope. No second service: the routes call
 * createGeneration, getGeneration and cancelGeneration like /v1/video/generations.
 */

const shape = generationBodySchema.shape;

/** POST /v1/videos: OpenAI's fields, plus ours (aspect_ratio, resolution, image_url, provider). */
export const videoCreateSchema = z.strictObject({
  prompt: shape.prompt,
  model: shape.model.describe("Model slug, e.g. local/preview; required"),
  seconds: z.union([
    z.string().regex(/^\d+(\.\d+)?$/, 'seconds must be a number of seconds, e.g. "4"'),
    z.number().positive(),
  ]).optional().describe('Clip length in seconds, as a string ("4") or a number'),
  size: z.string().regex(/^\d{2,5}x\d{2,5}$/, "size must be WIDTHxHEIGHT, e.g. 1280x720")
    .optional().describe("WIDTHxHEIGHT; one of the model's sizes (its resolutions × ratios)"),
  input_reference: z.union([
    shape.image_url.unwrap(),
    z.strictObject({ image_url: shape.image_url.unwrap() }),
  ])
    .optional().describe("Start image: its http(s) URL, or {image_url}"),
  aspect_ratio: shape.aspect_ratio,
  resolution: shape.resolution,
  image_url: shape.image_url,
  provider: shape.provider,
});

export type VideoCreateBody = z.infer<typeof videoCreateSchema>;

const VIDEO_STATUS = {
  pending: "queued",
  processing: "in_progress",
  completed: "completed",
  failed: "failed",
  cancelled: "failed",
} as const;

export const videoSchema = z.object({
  id: z.string(),
  object: z.literal("video"),
  created_at: z.int(),
  completed_at: z.int().nullable(),
  expires_at: z.int().nullable().describe("When the video is deleted (VIDEO_RETENTION_DAYS)"),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  model: z.string(),
  progress: z.int().min(0).max(100),
  prompt: z.string().nullable(),
  remixed_from_video_id: z.null(),
  seconds: z.string(),
  size: z.string(),
  status: z.enum(["queued", "in_progress", "completed", "failed"]),
  // Ours, beside OpenAI's.
  aspect_ratio: z.string(),
  resolution: z.string(),
  image_url: z.string().nullable(),
  provider: z.string(),
  cost_cents: z.int().nullable(),
  output_url: z.string().nullable(),
});

export type Video = z.infer<typeof videoSchema>;

export const videoListSchema = z.object({
  object: z.literal("list"),
  data: z.array(videoSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

export const videoDeletedSchema = z.object({
  id: z.string(),
  object: z.literal("video.deleted"),
  deleted: z.literal(true),
});

export const videoListQuerySchema = z.strictObject({
  after: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
});

export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/** `WxH` of a resolution label (its short side) and an aspect ratio, even-sized as encoders want. */
export function sizeOf(resolution: string, aspectRatio: string): string {
  const short = parseInt(resolution, 10);
  const [w, h] = aspectRatio.split(":").map(Number);
  if (!short || !w || !h) return `${resolution}@${aspectRatio}`;
  const long = Math.round((short * Math.max(w, h)) / Math.min(w, h) / 2) * 2;
  return w >= h ? `${long}x${short}` : `${short}x${long}`;
}

export interface ModelSizes {
  slug: string;
  capabilities: { resolutions: string[]; aspect_ratios: string[] };
}

/** The model's sizes: each resolution × aspect ratio, as `WxH` → the pair. */
export function sizesOf(
  model: ModelSizes,
): Map<string, { resolution: string; aspectRatio: string }> {
  const out = new Map<string, { resolution: string; aspectRatio: string }>();
  for (const resolution of model.capabilities.resolutions) {
    for (const aspectRatio of model.capabilities.aspect_ratios) {
      out.set(sizeOf(resolution, aspectRatio), { resolution, aspectRatio });
    }
  }
  return out;
}

/** The fields this surface accepts, for unknown-field errors with a did-you-mean. */
const VIDEO_FIELDS = Object.keys(videoCreateSchema.shape);

/**
 * The create body, JSON or multipart/form-data (the SDK's way, with `input_reference` as a
 * form field, `input_reference[image_url]`, or an uploaded file, which is refused for now).
 */
export async function readVideoCreateBody(req: Request): Promise<VideoCreateBody> {
  const type = req.headers.get("Content-Type") ?? "";
  let raw: unknown;
  if (type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form")) {
    const form = await req.formData().catch(() => {
      throw new BadRequest("Request body must be valid form data", null, "invalid_request");
    });
    const fields: Record<string, unknown> = {};
    for (const [name, value] of form) {
      if (typeof value !== "string") {
        throw new BadRequest(
          "Uploading input_reference is not supported here; send its http(s) URL as " +
            "input_reference (or input_reference[image_url], or image_url)",
          name,
          "unsupported_option",
        );
      }
      const nested = name.match(/^input_reference\[(\w+)\]$/);
      if (nested) fields.input_reference = { [nested[1]]: value };
      else fields[name] = value;
    }
    raw = fields;
  } else {
    try {
      raw = await req.json();
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new BadRequest("Request body must be valid JSON", null, "invalid_json");
    }
  }
  rejectUnknownFields(raw, VIDEO_FIELDS);
  const r = videoCreateSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const param = issue.path.length ? issue.path.map(String).join(".") : null;
    throw new BadRequest(param ? `${param}: ${issue.message}` : issue.message, param);
  }
  return r.data;
}

/** Maps the OpenAI fields onto our input; `size` must be one of the model's sizes. */
export function videoInput(body: VideoCreateBody, models: ModelSizes[]): GenerationInput {
  if (!body.model) {
    throw new BadRequest("model is required: a slug from GET /v1/models", "model");
  }
  const model = models.find((m) => m.slug === body.model);
  if (!model) throw new BadRequest(`Unknown model ${body.model}`, "model", "model_not_found");
  let resolution = body.resolution;
  let aspectRatio = body.aspect_ratio;
  if (body.size) {
    const sizes = sizesOf(model);
    const pair = sizes.get(body.size);
    if (!pair) {
      throw new BadRequest(
        `${model.slug} supports sizes ${[...sizes.keys()].join(", ")}, not ${body.size}`,
        "size",
        "unsupported_option",
      );
    }
    if (
      (resolution && resolution !== pair.resolution) ||
      (aspectRatio && aspectRatio !== pair.aspectRatio)
    ) {
      throw new BadRequest(
        `size ${body.size} is ${pair.resolution} at ${pair.aspectRatio}; it disagrees with ` +
          "resolution or aspect_ratio: send one or the other",
        "size",
      );
    }
    resolution = pair.resolution;
    aspectRatio = pair.aspectRatio;
  }
  const ref = body.input_reference;
  const imageUrl = body.image_url ?? (typeof ref === "string" ? ref : ref?.image_url);
  const input: GenerationInput = { models: [model.slug], prompt: body.prompt };
  if (body.seconds !== undefined) input.duration = Number(body.seconds);
  if (resolution) input.resolution = resolution;
  if (aspectRatio) input.aspectRatio = aspectRatio;
  if (imageUrl) input.imageUrl = imageUrl;
  if (body.provider) input.provider = body.provider;
  return input;
}

/** Our option names as this surface calls them, for errors the service raises. */
export function videoParam(param: string | null, body: VideoCreateBody): string | null {
  if (param === "duration") return "seconds";
  if ((param === "resolution" || param === "aspect_ratio") && body.size) return "size";
  return param;
}

/** A generation as OpenAI's `video` object, our fields beside its own. */
export function toVideo(
  g: GenerationRecord,
  p: PresentedGeneration,
  retentionDays: number,
): Video {
  const ended = g.status === "failed" || g.status === "cancelled";
  const code = (p as { error?: { code?: string } }).error?.code ??
    (g.status === "cancelled" ? "cancelled" : "provider_error");
  return {
    id: p.id,
    object: "video",
    created_at: p.created_at,
    completed_at: p.completed_at,
    expires_at: p.completed_at !== null && g.status === "completed" && retentionDays > 0
      ? p.completed_at + retentionDays * 86_400
      : null,
    error: ended ? { code, message: p.error_message ?? `Generation ${g.status}` } : null,
    model: p.model,
    progress: p.progress,
    prompt: g.options.prompt,
    remixed_from_video_id: null,
    seconds: String(p.duration),
    size: sizeOf(p.resolution, p.aspect_ratio),
    status: VIDEO_STATUS[g.status],
    aspect_ratio: p.aspect_ratio,
    resolution: p.resolution,
    image_url: g.options.image_url ?? null,
    provider: p.routing.provider,
    cost_cents: p.cost_cents,
    output_url: p.output_url,
  };
}

/** OpenAI's envelope for an error already mapped to API.md's body. */
export function toOpenAiError(
  body: { message: string; error: { type: string; code: string; param: string | null } },
) {
  return {
    error: {
      message: body.message,
      type: body.error.type,
      param: body.error.param,
      code: body.error.code,
    },
  };
}

/** The operations of OpenAI's Videos API no route here can honour. */
export function unsupportedVideoOperation(what: string): never {
  throw new AppError(
    404,
    "invalid_request_error",
    "unsupported",
    `${what} is not supported by this gateway: no model route here can honour it. ` +
      "Create a new video with POST /v1/videos instead.",
  );
}
