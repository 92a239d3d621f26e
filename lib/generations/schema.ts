import { z } from "zod";
import { BadRequest } from "../errors.ts";

/**
 * The body of POST /v1/video/generations. Accepts camelCase and snake_case aliases; unknown
 * fields are ignored. The output is the one typed input of createGeneration.
 */

export const MAX_PROMPT_CHARS = 4000;

/** Metadata travels in every webhook body: bounded by its JSON size, in printable text. */
export const MAX_METADATA_JSON_CHARS = 4096;
// C0/C1 control characters (JSON escapes each to six characters) and line/paragraph separators.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029]/u;

const metadata = z.record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, "metadata holds at most 16 keys")
  .refine(
    (m) => Object.entries(m).every(([k, v]) => isPrintable(k) && isPrintable(v)),
    "metadata keys and values must be printable text without control characters",
  )
  .refine(
    (m) => JSON.stringify(m).length <= MAX_METADATA_JSON_CHARS,
    `metadata must be at most ${MAX_METADATA_JSON_CHARS} characters as JSON`,
  );

function isPrintable(s: string): boolean {
  return s.isWellFormed() && !UNPRINTABLE.test(s);
}

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).max(2048);

export const generationBodySchema = z.object({
  model: z.string().trim().min(1).max(200).optional(),
  models: z.array(z.string().trim().min(1).max(200)).min(1).max(5).optional(),
  prompt: z.string({ error: "prompt is required" }).trim()
    .min(1, "prompt must not be empty")
    .max(MAX_PROMPT_CHARS, `prompt must be at most ${MAX_PROMPT_CHARS} characters`),
  duration: z.number().positive().max(600).optional(),
  resolution: z.string().trim().min(1).max(20).optional(),
  aspectRatio: z.string().trim().min(1).max(20).optional(),
  aspect_ratio: z.string().trim().min(1).max(20).optional(),
  imageUrl: httpUrl.optional(),
  image_url: httpUrl.optional(),
  provider: z.union([
    z.string().trim().min(1).max(50),
    z.object({ order: z.array(z.string().trim().min(1).max(50)).min(1).max(10) }),
  ]).optional(),
  negative_prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  negativePrompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  audio: z.boolean().optional(),
  /** Lets the provider rewrite the prompt where it can (fal auto_fix, Wan, Hailuo); default false. */
  enhance_prompt: z.boolean().optional(),
  webhook_url: httpUrl.optional(),
  webhookUrl: httpUrl.optional(),
  metadata: metadata.optional(),
});

export interface GenerationInput {
  /** The model, or the fallback list in priority order. */
  models: string[];
  prompt: string;
  duration?: number;
  resolution?: string;
  aspectRatio?: string;
  imageUrl?: string;
  provider?: string | { order: string[] };
  negativePrompt?: string;
  seed?: number;
  audio?: boolean;
  enhancePrompt?: boolean;
  webhookUrl?: string;
  metadata?: Record<string, string>;
}

/** Turns the first zod issue into a BadRequest naming the field as the client spelled it. */
export function badRequestFromZod(error: z.ZodError): BadRequest {
  const issue = error.issues[0];
  const param = issue.path.length ? issue.path.map(String).join(".") : null;
  const message = param && !issue.message.includes(param.split(".")[0])
    ? `${param}: ${issue.message}`
    : issue.message;
  return new BadRequest(message, param);
}

/** Validates a parsed JSON body; throws BadRequest with `param`. */
export function parseGenerationBody(body: unknown): GenerationInput {
  const r = generationBodySchema.safeParse(body);
  if (!r.success) throw badRequestFromZod(r.error);
  const b = r.data;
  if (b.model !== undefined && b.models !== undefined) {
    // Neither may silently win: a client sending both meant one of them.
    throw new BadRequest(
      "Send either model (one model) or models (a fallback list), not both",
      "models",
    );
  }
  const models = b.models ?? (b.model ? [b.model] : []);
  if (models.length === 0) throw new BadRequest("model or models is required", "model");
  const drop = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return drop({
    models: [...new Set(models)],
    prompt: b.prompt,
    duration: b.duration,
    resolution: b.resolution,
    aspectRatio: b.aspectRatio ?? b.aspect_ratio,
    imageUrl: b.imageUrl ?? b.image_url,
    provider: b.provider,
    negativePrompt: b.negative_prompt ?? b.negativePrompt,
    seed: b.seed,
    audio: b.audio,
    enhancePrompt: b.enhance_prompt,
    webhookUrl: b.webhook_url ?? b.webhookUrl,
    metadata: b.metadata,
  });
}

/** The query of GET /v1/video/generations (and the list_generations MCP tool's arguments). */
export const generationListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(1000).optional(),
  status: z.enum(["pending", "processing", "completed", "failed", "cancelled"]).optional(),
  model: z.string().trim().min(1).max(200).optional(),
});
