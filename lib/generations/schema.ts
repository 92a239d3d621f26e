import { z } from "zod";
import { type AppError, BadRequest } from "../errors.ts";
import { rejectUnknownFields, UnknownParameter } from "../api/fields.ts";

/**
 * The body of POST /v1/video/generations. Each field has one name (snake_case, as responses
 * are); the camelCase spellings the public docs and clients use are accepted as aliases. An
 * unknown field is a 400 `unknown_parameter`, before anything is priced or charged. The output
 * is the one typed input of createGeneration.
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

export const generationBodySchema = z.strictObject({
  model: z.string().trim().min(1).max(200).optional(),
  models: z.array(z.string().trim().min(1).max(200)).min(1).max(5).optional(),
  prompt: z.string({ error: "prompt is required" }).trim()
    .min(1, "prompt must not be empty")
    .max(MAX_PROMPT_CHARS, `prompt must be at most ${MAX_PROMPT_CHARS} characters`),
  duration: z.number().positive().max(600).optional(),
  resolution: z.string().trim().min(1).max(20).optional(),
  aspect_ratio: z.string().trim().min(1).max(20).optional(),
  image_url: httpUrl.optional(),
  provider: z.union([
    z.string().trim().min(1).max(50),
    z.strictObject({ order: z.array(z.string().trim().min(1).max(50)).min(1).max(10) }),
  ]).optional(),
  negative_prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  audio: z.boolean().optional(),
  /** Lets the provider rewrite the prompt where it can (fal auto_fix, Wan, Hailuo); default false. */
  enhance_prompt: z.boolean().optional(),
  webhook_url: httpUrl.optional(),
  metadata: metadata.optional(),
});

/** The other spelling each field may arrive in (API.md), → the field it stands for. */
export const FIELD_ALIASES = {
  aspectRatio: "aspect_ratio",
  imageUrl: "image_url",
  negativePrompt: "negative_prompt",
  webhookUrl: "webhook_url",
} as const satisfies Record<string, keyof typeof generationBodySchema.shape>;

/** Every field name the body accepts, aliases included. */
export const GENERATION_BODY_FIELDS: readonly string[] = [
  ...Object.keys(generationBodySchema.shape),
  ...Object.keys(FIELD_ALIASES),
];

/**
 * Renames aliases to their field; unknown fields throw UnknownParameter (with a did-you-mean),
 * and a field sent under both names with different values is refused rather than one winning.
 */
export function canonicalFields(
  body: unknown,
  aliases: Record<string, string> = FIELD_ALIASES,
  known: readonly string[] = GENERATION_BODY_FIELDS,
): unknown {
  rejectUnknownFields(body, known);
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...body };
  for (const [alias, field] of Object.entries(aliases)) {
    if (!(alias in out)) continue;
    if (field in out && JSON.stringify(out[field]) !== JSON.stringify(out[alias])) {
      throw new BadRequest(`Send ${field} or its alias ${alias}, not both`, alias);
    }
    out[field] = out[alias];
    delete out[alias];
  }
  return out;
}

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
export function badRequestFromZod(
  error: z.ZodError,
  spelled: Record<string, string> = {},
): AppError {
  const issue = error.issues[0];
  const [head, ...rest] = issue.path.map(String);
  const param = head === undefined ? null : [spelled[head] ?? head, ...rest].join(".");
  if (issue.code === "unrecognized_keys") {
    const at = param ? param + "." : "";
    return new UnknownParameter(at + issue.keys[0], null);
  }
  const message = param && !issue.message.includes(param.split(".")[0])
    ? `${param}: ${issue.message}`
    : issue.message;
  return new BadRequest(message, param);
}

/** field → the alias the client sent it as, so errors name the field as it was spelled. */
export function aliasesSent(
  body: unknown,
  aliases: Record<string, string> = FIELD_ALIASES,
): Record<string, string> {
  if (!body || typeof body !== "object") return {};
  return Object.fromEntries(
    Object.entries(aliases).filter(([alias]) => alias in body).map(([a, f]) => [f, a]),
  );
}

/** Validates a parsed JSON body; throws BadRequest with `param`. */
export function parseGenerationBody(body: unknown): GenerationInput {
  const r = generationBodySchema.safeParse(canonicalFields(body));
  if (!r.success) throw badRequestFromZod(r.error, aliasesSent(body));
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
    aspectRatio: b.aspect_ratio,
    imageUrl: b.image_url,
    provider: b.provider,
    negativePrompt: b.negative_prompt,
    seed: b.seed,
    audio: b.audio,
    enhancePrompt: b.enhance_prompt,
    webhookUrl: b.webhook_url,
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
