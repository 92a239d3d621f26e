import { z } from "zod";
import { FIELD_ALIASES, generationBodySchema, MAX_PROMPT_CHARS } from "./generations/schema.ts";
import { limitCents, limitReset } from "./spend/schema.ts";
import { generationExtras } from "./api/schemas.ts";
import {
  openAiErrorSchema,
  videoCreateSchema,
  videoDeletedSchema,
  videoListSchema,
  videoSchema,
} from "./api/openai.ts";

/**
 * The OpenAPI 3.1 document of the /v1 API (API.md). The request body schema is generated from
 * the very zod schema that validates POST /v1/video/generations, so the two cannot drift; the
 * response shapes are zod schemas here, checked against real responses by the tests.
 */

const status = z.enum(["pending", "processing", "completed", "failed", "cancelled"]);
const seconds = z.int().describe("Unix time in seconds");

export const generationSchema = z.object({
  id: z.string(),
  status,
  model: z.string().describe("The model that ran (or is running)"),
  output_url: z.string().nullable().describe(
    "Signed, expiring URL of the MP4 once completed; needs no API key",
  ),
  cost_cents: z.int().nullable().describe(
    "Integer cents: charged at submit (shown from the start), the final charge once terminal",
  ),
  latency_ms: z.int().nullable().describe("From creation to completion"),
  error_message: z.string().nullable(),
  error: z.object({
    code: z.string().describe(
      "content_moderated, model_unavailable, provider_error, timeout, invalid_input or " +
        "cancelled; treat an unknown code as provider_error",
    ),
    message: z.string(),
  }).nullable().describe("Why a failed or cancelled generation ended; null otherwise"),
  created_at: seconds,
  completed_at: seconds.nullable(),
  metadata: z.record(z.string(), z.string()).optional(),
  output_expired: z.literal(true).optional().describe(
    "Present when the video was deleted after VIDEO_RETENTION_DAYS; output_url is then null",
  ),
});

/** The generation as /v1 answers it: the (compat) fields above plus lib/api's additions. */
export const presentedGenerationSchema = generationSchema.extend(generationExtras);

export const generationListSchema = z.object({
  data: z.array(presentedGenerationSchema),
  next_cursor: z.string().nullable(),
});

const named = z.object({ slug: z.string(), name: z.string() });

export const modelSchema = z.looseObject({
  slug: z.string().describe("maker/model, e.g. google/veo-3.1"),
  name: z.string(),
  display_name: z.string(),
  description: z.string(),
  capabilities: z.looseObject({
    durations: z.array(z.number()),
    resolutions: z.array(z.string()),
    aspect_ratios: z.array(z.string()),
    image_input: z.boolean(),
    audio: z.boolean(),
    modes: z.looseObject({}).optional().describe(
      "Each mode's options as the configured routes honour them: `text` (no image_url) and " +
        "`image` (with one), each {durations, resolutions, durations_at?, aspect_ratios, audio, " +
        "negative_prompt, seed, pricing}. The fields above are the text mode's (image for " +
        "image-only models).",
    ),
  }),
  pricing: z.looseObject({
    unit: z.enum(["second", "video"]),
    cents: z.record(z.string(), z.number()).describe("Cents per unit by resolution"),
    audio_cents: z.record(z.string(), z.number()).optional().describe(
      "Cents per unit by resolution when audio is generated",
    ),
  }),
  maker: named,
  family: named,
  routes: z.array(z.looseObject({ provider: z.string(), host: z.string() })),
});

export const modelListSchema = z.object({ models: z.array(modelSchema) });

export const modelMetricsSchema = z.object({
  totalRequests: z.int(),
  completedRequests: z.int(),
  failedRequests: z.int(),
  successRate: z.number().min(0).max(100),
  avgLatencyMs: z.number(),
  p50LatencyMs: z.number(),
  p95LatencyMs: z.number(),
});

export const modelDetailSchema = z.object({
  model: z.looseObject({
    id: z.string(),
    slug: z.string(),
    routes: z.array(z.looseObject({ provider: named, host: named })),
  }),
  metrics: modelMetricsSchema.extend({
    routes: z.array(z.object({
      provider: z.string(),
      breaker: z.enum(["closed", "open", "half_open"])
        .describe("open: the route is paused after mostly failing; half_open: being tried again"),
      recent_failure_rate: z.number().min(0).max(100),
      duplicate_jobs: z.int().describe("Upstream jobs started twice for one generation"),
      duplicate_jobs_cancelled: z.int(),
      interrupted_submits: z.int().describe("Submits cut by a crash: possible duplicates"),
      orphans_adopted: z.int().describe("Of those, jobs found upstream and adopted: no duplicate"),
    })).describe("Each route's health now (additive)"),
  }).describe("The last 7 days"),
});

const periodUsageSchema = z.object({
  spent_cents: z.int().describe("Charged minus refunded, in cents"),
  requests: z.int().describe("Generations accepted"),
});

const keyUsageFields = {
  limit_cents: limitCents,
  limit_reset: limitReset,
  resets_at: seconds.nullable().describe("When the limit period ends; null without a limit"),
  today: periodUsageSchema.describe("This UTC day"),
  period: periodUsageSchema.describe("The current limit period (all time for never)"),
  all_time: periodUsageSchema,
};

export const keyUsageSchema = z.object({
  key_id: z.string().describe("key_… id"),
  name: z.string(),
  ...keyUsageFields,
});

export const keyInfoSchema = z.object({
  data: z.object({
    id: z.string().describe("key_… id"),
    name: z.string(),
    label: z.string().describe("The key's visible prefix"),
    limit_cents: limitCents,
    limit_reset: limitReset,
    spent_cents: z.int().describe("Spent in the current limit period"),
    limit_remaining_cents: z.int().nullable().describe("null without a limit"),
    resets_at: seconds.nullable().describe("When spent_cents resets; null when it never does"),
    expires_at: seconds.nullable(),
    usage: z.object({
      today: periodUsageSchema,
      period: periodUsageSchema,
      all_time: periodUsageSchema,
    }),
  }),
});

export const usageSchema = z.object({
  credit_balance: z.int().describe("Cents"),
  totals: z.object({
    total_requests: z.int(),
    completed_requests: z.int(),
    failed_requests: z.int(),
    total_cost_cents: z.int(),
  }),
  daily_usage: z.array(z.object({
    date: z.string().describe("UTC day, YYYY-MM-DD"),
    request_count: z.int(),
    completed_count: z.int(),
    failed_count: z.int(),
    total_cost_cents: z.int(),
    total_duration_seconds: z.number(),
  })),
  recent_requests: z.array(z.object({
    id: z.string(),
    status,
    model_name: z.string(),
    cost_cents: z.int().nullable(),
    latency_ms: z.int().nullable(),
    created_at: seconds,
    completed_at: seconds.nullable(),
  })),
  by_key: z.array(keyUsageSchema).describe("Additive: spend and requests per API key"),
});

export const balanceLowEventSchema = z.object({
  type: z.literal("balance.low"),
  timestamp: z.string().describe("ISO 8601 time of the charge that crossed the threshold"),
  data: z.object({
    organization_id: z.string(),
    balance_cents: z.int().describe("The balance after that charge"),
    threshold_cents: z.int(),
  }),
});

export const typedGenerationEventSchema = z.object({
  type: z.enum([
    "video.generation.succeeded",
    "video.generation.failed",
    "video.generation.cancelled",
  ]),
  timestamp: z.string().describe("RFC 3339 time the generation ended"),
  data: presentedGenerationSchema,
});

export const webhookSecretSchema = z.object({ secret: z.string().startsWith("whsec_") });

export const errorSchema = z.object({
  message: z.string(),
  error: z.object({
    type: z.string().describe("e.g. invalid_request_error, billing_error, rate_limit_error"),
    code: z.string().describe(
      "e.g. invalid_request, insufficient_credits, key_limit_exceeded, budget_exceeded, " +
        "rate_limit_exceeded",
    ),
    param: z.string().nullable().describe("The offending request field, if any"),
  }),
  data: z.record(z.string(), z.unknown()).optional().describe(
    "Extra details, e.g. retry_after on 429",
  ),
});

/** What each request field means; keys must be exactly the schema's properties (tested). */
export const REQUEST_FIELD_DOCS: Record<string, string> = {
  model: "Model slug, e.g. local/preview or google/veo-3.1. Either model or models is required.",
  models: "Fallback list in priority order; on a retryable failure the next model is tried.",
  prompt: `What to generate; required, non-empty, at most ${MAX_PROMPT_CHARS} characters.`,
  duration: "Seconds; one the model supports (see /v1/models). Default per model.",
  resolution: "e.g. 480p, 720p, 1080p, as the model supports. Default per model.",
  aspect_ratio: "e.g. 16:9, 9:16, 1:1, as the model supports.",
  image_url: "http(s) URL of a start image for image-to-video models.",
  provider: "Routing preference: a provider id, or {order: [...]}. Omitted: cheapest route.",
  negative_prompt: "What to avoid; passed on where the model supports it.",
  seed: "Seed for repeatable output, where the model supports it.",
  audio: "Generate sound, where the model supports it (may change the price).",
  enhance_prompt:
    "Let the provider rewrite the prompt where it can (prompt expansion, auto-fix); default " +
    "false: otherwise it never does.",
  webhook_url: "Per-request callback, signed with the organization's default secret.",
  metadata: "Up to 16 string keys/values, returned as given.",
};

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest as JsonSchema;
}

/** The request body schema exactly as zod validates it, with field descriptions added. */
export function generationRequestJsonSchema(): JsonSchema {
  const s = jsonSchema(generationBodySchema, "input");
  const props = s.properties as Record<string, JsonSchema>;
  // Aliases are accepted too, so the document does not claim additionalProperties: false.
  delete s.additionalProperties;
  const aliasOf = Object.fromEntries(Object.entries(FIELD_ALIASES).map(([a, f]) => [f, a]));
  for (const [k, v] of Object.entries(props)) {
    const alias = aliasOf[k] ? ` Also accepted as ${aliasOf[k]}.` : "";
    if (REQUEST_FIELD_DOCS[k]) v.description = REQUEST_FIELD_DOCS[k] + alias;
  }
  return {
    ...s,
    description: "Either model or models is required. An unknown field is refused with 400 " +
      "unknown_parameter (param names it; a close known field is suggested), before anything " +
      `is charged. Aliases: ${
        Object.entries(FIELD_ALIASES).map(([a, f]) => `${a} = ${f}`).join(", ")
      }.`,
    example: { model: "local/preview", prompt: "a lighthouse at dusk", duration: 4 },
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: JsonSchema, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const errorResponse = (description: string) => jsonBody(ref("Error"), description);

const AUTH_ERRORS = {
  "401": errorResponse("Missing, unknown, revoked or expired API key"),
  "429": {
    ...errorResponse("Rate limit exceeded; see Retry-After and data.retry_after"),
    headers: {
      "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" },
    },
  },
};
const openAiError = (description: string) => jsonBody(ref("OpenAIError"), description);
const OPENAI_AUTH_ERRORS = {
  "401": openAiError("Missing, unknown, revoked or expired API key"),
  "429": openAiError("Rate limit exceeded; see Retry-After"),
};
const idParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The gen_… id",
};

/** Builds the whole document for a server reachable at publicUrl. */
export function buildOpenApiDocument(publicUrl: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Pipevideo API",
      version: "1.0.0",
      description: "One REST API for many video-generation models. Credits are charged at " +
        "submission; a failed or cancelled generation is refunded automatically, exactly once. " +
        "Guide: " + publicUrl + "/docs",
    },
    servers: [{ url: publicUrl }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "Generations" },
      { name: "Videos (OpenAI shape)" },
      { name: "Models" },
      { name: "Usage" },
      { name: "Webhooks" },
    ],
    paths: {
      "/v1/video/generations": {
        post: {
          tags: ["Generations"],
          operationId: "createGeneration",
          summary: "Submit a generation",
          description: "Validates, prices and charges the request, then answers at once; poll " +
            "the generation or wait for a webhook.",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", maxLength: 256 },
              description: "Same key + same body within 24 h returns the first answer; " +
                "same key + different body answers 409.",
            },
            {
              name: "X-Application-Name",
              in: "header",
              required: false,
              schema: { type: "string", maxLength: 256 },
              description: "Stored with the generation.",
            },
          ],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("GenerationRequest") } },
          },
          responses: {
            "200": jsonBody(
              ref("Generation"),
              "Accepted and charged: the generation, its cost_cents already set (compat " +
                "clients read id, status and created_at)",
            ),
            "400": errorResponse(
              "Malformed JSON, failed validation or an option the model does not support " +
                "(error.param names the field)",
            ),
            "402": errorResponse(
              "Insufficient credits (code insufficient_credits), over the API key's spend " +
                "limit (code key_limit_exceeded) or over the organization's monthly budget " +
                "(code budget_exceeded); nothing is created or charged. data gives limit_cents " +
                "or budget_cents, spent_cents and resets_at (Unix seconds, null when it never " +
                "resets).",
            ),
            "409": errorResponse("Idempotency key reused with a different body"),
            "413": errorResponse("Body too large"),
            ...AUTH_ERRORS,
          },
        },
        get: {
          tags: ["Generations"],
          operationId: "listGenerations",
          summary: "List generations, newest first",
          parameters: [
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 100 },
            },
            { name: "cursor", in: "query", schema: { type: "string" } },
            { name: "status", in: "query", schema: { type: "string", enum: status.options } },
            { name: "model", in: "query", schema: { type: "string" } },
          ],
          responses: {
            "200": jsonBody(ref("GenerationList"), "A page of generations"),
            "400": errorResponse("Bad query parameter"),
            ...AUTH_ERRORS,
          },
        },
      },
      "/v1/video/generations/{id}": {
        get: {
          tags: ["Generations"],
          operationId: "getGeneration",
          summary: "Get a generation",
          parameters: [idParam],
          responses: {
            "200": jsonBody(ref("Generation"), "The generation"),
            "404": errorResponse("Unknown id, or another organization's"),
            ...AUTH_ERRORS,
          },
        },
      },
      "/v1/video/generations/{id}/events": {
        get: {
          tags: ["Generations"],
          operationId: "streamGenerationEvents",
          summary: "The generation as it changes, as server-sent events",
          description: "text/event-stream: an event per change (status, progress 0–100, cost), " +
            "each with an id: and the generation object as data; closed after the terminal " +
            "event. Send Last-Event-ID to resume without repeating the state last seen.",
          parameters: [idParam, {
            name: "Last-Event-ID",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "The id of the last event received",
          }],
          responses: {
            "200": {
              description: "The event stream; each event's data is a Generation",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            "404": errorResponse("Unknown id, or another organization's"),
            ...AUTH_ERRORS,
          },
        },
      },
      "/v1/video/generations/{id}/cancel": {
        post: {
          tags: ["Generations"],
          operationId: "cancelGeneration",
          summary: "Cancel a generation, refunded when its provider confirms the job stopped",
          parameters: [idParam],
          responses: {
            "200": jsonBody(ref("Generation"), "The cancelled generation (refunded)"),
            "404": errorResponse("Unknown id, or another organization's"),
            "409": errorResponse(
              "generation_finished: it already ended; not_cancellable: it runs on a provider " +
                "that cannot stop it now (it completes and is charged)",
            ),
            ...AUTH_ERRORS,
          },
        },
      },
      "/v1/videos": {
        post: {
          tags: ["Videos (OpenAI shape)"],
          operationId: "createVideo",
          summary: "Create a video (OpenAI Videos API shape)",
          description: "The same generation as POST /v1/video/generations, with OpenAI's " +
            "field names: seconds, size (WIDTHxHEIGHT, one of the model's resolutions × " +
            "aspect ratios), input_reference (an image URL). JSON or multipart/form-data. " +
            "Charged at submit.",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: ref("VideoCreateRequest") },
              "multipart/form-data": { schema: ref("VideoCreateRequest") },
            },
          },
          responses: {
            "200": jsonBody(ref("Video"), "Accepted and charged"),
            "400": openAiError("Validation failed, an unknown field, or a size the model lacks"),
            "402": openAiError("Insufficient credits, a key limit or the monthly budget"),
            ...OPENAI_AUTH_ERRORS,
          },
        },
        get: {
          tags: ["Videos (OpenAI shape)"],
          operationId: "listVideos",
          summary: "List videos",
          parameters: [
            { name: "after", in: "query", schema: { type: "string" }, description: "A video id" },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
            { name: "order", in: "query", schema: { type: "string", enum: ["asc", "desc"] } },
          ],
          responses: { "200": jsonBody(ref("VideoList"), "A page"), ...OPENAI_AUTH_ERRORS },
        },
      },
      "/v1/videos/{id}": {
        get: {
          tags: ["Videos (OpenAI shape)"],
          operationId: "retrieveVideo",
          summary: "Retrieve a video",
          parameters: [idParam],
          responses: {
            "200": {
              ...jsonBody(ref("Video"), "The video"),
              headers: {
                "openai-poll-after-ms": {
                  schema: { type: "integer" },
                  description: "While queued or in progress: when to ask again",
                },
              },
            },
            "404": openAiError("Unknown, deleted or another organization's"),
            ...OPENAI_AUTH_ERRORS,
          },
        },
        delete: {
          tags: ["Videos (OpenAI shape)"],
          operationId: "deleteVideo",
          summary: "Delete a video (a running one is cancelled and refunded first)",
          parameters: [idParam],
          responses: {
            "200": jsonBody(ref("VideoDeleted"), "Deleted"),
            "404": openAiError("Unknown, deleted or another organization's"),
            ...OPENAI_AUTH_ERRORS,
          },
        },
      },
      "/v1/videos/{id}/content": {
        get: {
          tags: ["Videos (OpenAI shape)"],
          operationId: "downloadVideoContent",
          summary: "The video's MP4",
          parameters: [idParam, {
            name: "variant",
            in: "query",
            schema: { type: "string", enum: ["video", "thumbnail", "spritesheet"] },
            description: "video (default); the others answer 404 unsupported",
          }],
          responses: {
            "200": { description: "The MP4", content: { "video/mp4": {} } },
            "404": openAiError("Not completed, deleted, or an unsupported variant"),
            ...OPENAI_AUTH_ERRORS,
          },
        },
      },
      "/v1/models": {
        get: {
          tags: ["Models"],
          operationId: "listModels",
          summary: "Models available on this server, with capabilities and prices",
          responses: { "200": jsonBody(ref("ModelList"), "The catalog"), ...AUTH_ERRORS },
        },
      },
      "/v1/models/{slug}": {
        get: {
          tags: ["Models"],
          operationId: "getModel",
          summary: "One model with its routes and 7-day metrics",
          parameters: [{
            name: "slug",
            in: "path",
            required: true,
            schema: { type: "string" },
            description: "URL-encoded slug, e.g. google%2Fveo-3.1",
          }],
          responses: {
            "200": jsonBody(ref("ModelDetail"), "The model and its metrics"),
            "404": errorResponse("Unknown model"),
            ...AUTH_ERRORS,
          },
        },
      },
      "/v1/usage": {
        get: {
          tags: ["Usage"],
          operationId: "getUsage",
          summary: "Balance, totals, daily usage (30 days) and recent requests",
          responses: { "200": jsonBody(ref("Usage"), "The organization's usage"), ...AUTH_ERRORS },
        },
      },
      "/v1/key": {
        get: {
          tags: ["Usage"],
          operationId: "getCurrentKey",
          summary: "The calling API key: name, spend limit, spent and when it resets",
          description: "Follows OpenRouter's GET /api/v1/key, in integer cents.",
          responses: { "200": jsonBody(ref("KeyInfo"), "The calling key"), ...AUTH_ERRORS },
        },
      },
      "/v1/webhooks/secret": {
        get: {
          tags: ["Webhooks"],
          operationId: "getWebhookSecret",
          summary: "The organization's default signing secret (for per-request webhook_url)",
          responses: {
            "200": jsonBody(ref("WebhookSecret"), "The whsec_… secret"),
            ...AUTH_ERRORS,
          },
        },
      },
    },
    webhooks: {
      ...Object.fromEntries(
        ["succeeded", "failed", "cancelled"].map((outcome) => [`video.generation.${outcome}`, {
          post: {
            summary: `A generation ${outcome} (typed event, opt-in per endpoint)`,
            description: "Sent only to endpoints that chose this event; endpoints that chose " +
              "none get video.generation.completed instead. Signed the Standard Webhooks way.",
            requestBody: {
              content: { "application/json": { schema: ref("TypedGenerationEvent") } },
            },
            responses: { "200": { description: "Any 2xx acknowledges the delivery" } },
          },
        }]),
      ),
      "balance.low": {
        post: {
          summary: "The balance fell below the organization's low-balance threshold",
          description: "Sent once per downward crossing (not per request) to every enabled " +
            "endpoint, signed the Standard Webhooks way like video.generation.completed; it " +
            "fires again only after the balance has gone back above the threshold.",
          requestBody: { content: { "application/json": { schema: ref("BalanceLowEvent") } } },
          responses: { "200": { description: "Any 2xx acknowledges the delivery" } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "An API key: Authorization: Bearer pv_…",
        },
      },
      schemas: {
        GenerationRequest: generationRequestJsonSchema(),
        Generation: jsonSchema(presentedGenerationSchema, "output"),
        GenerationList: jsonSchema(generationListSchema, "output"),
        Model: jsonSchema(modelSchema, "output"),
        ModelList: jsonSchema(modelListSchema, "output"),
        ModelDetail: jsonSchema(modelDetailSchema, "output"),
        Usage: jsonSchema(usageSchema, "output"),
        KeyInfo: jsonSchema(keyInfoSchema, "output"),
        BalanceLowEvent: jsonSchema(balanceLowEventSchema, "output"),
        TypedGenerationEvent: jsonSchema(typedGenerationEventSchema, "output"),
        WebhookSecret: jsonSchema(webhookSecretSchema, "output"),
        Error: jsonSchema(errorSchema, "output"),
        VideoCreateRequest: jsonSchema(videoCreateSchema, "input"),
        Video: jsonSchema(videoSchema, "output"),
        VideoList: jsonSchema(videoListSchema, "output"),
        VideoDeleted: jsonSchema(videoDeletedSchema, "output"),
        OpenAIError: jsonSchema(openAiErrorSchema, "output"),
      },
    },
  };
}

/**
 * The guide's code, filled in for this server, next to the document it describes. The webhook
 * verifier is plain WebCrypto (Node 20+, Deno, Bun, Workers); a test runs it against our signer.
 */
export const WEBHOOK_VERIFY_JS =
  `// Verify a Pipevideo webhook (Standard Webhooks). body = the raw request body text.
async function verifyWebhook(secret, headers, body, toleranceSec = 300) {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const sigs = (headers.get("webhook-signature") ?? "").split(" ");
  if (!id || !/^\\d+$/.test(ts ?? "")) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSec) return false;
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    "raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"],
  );
  const signed = new TextEncoder().encode(\`\${id}.\${ts}.\${body}\`);
  let ok = false;
  for (const sig of sigs) {
    const [version, value] = sig.split(",");
    if (version !== "v1" || !value) continue;
    const mac = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, mac, signed)) ok = true;
  }
  return ok;
}`;

export interface QuickstartSnippets {
  curlSubmit: string;
  curlPoll: string;
  fetchSubmitAndPoll: string;
  curlSecret: string;
  webhookVerify: string;
  curlAdminKey: string;
}

export function quickstartSnippets(publicUrl: string): QuickstartSnippets {
  return {
    curlSubmit: `curl -s ${publicUrl}/v1/video/generations \\
  -H "Authorization: Bearer $PIPEVIDEO_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: $(uuidgen)" \\
  -d '{"model": "local/preview", "prompt": "a lighthouse at dusk", "duration": 4}'
# {"id":"gen_…","status":"pending","created_at":…}`,
    curlPoll: `curl -s ${publicUrl}/v1/video/generations/gen_… \\
  -H "Authorization: Bearer $PIPEVIDEO_KEY"
# {"id":"gen_…","status":"completed","output_url":"${publicUrl}/files/videos/…", …}`,
    fetchSubmitAndPoll: `const BASE = "${publicUrl}";
const headers = {
  "Authorization": \`Bearer \${process.env.PIPEVIDEO_KEY}\`,
  "Content-Type": "application/json",
};

const res = await fetch(\`\${BASE}/v1/video/generations\`, {
  method: "POST",
  headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
  body: JSON.stringify({ model: "local/preview", prompt: "a lighthouse at dusk", duration: 4 }),
});
if (!res.ok) throw new Error((await res.json()).message);
const { id } = await res.json();

let gen;
do {
  await new Promise((r) => setTimeout(r, 2000));
  gen = await (await fetch(\`\${BASE}/v1/video/generations/\${id}\`, { headers })).json();
} while (gen.status === "pending" || gen.status === "processing");

console.log(gen.status, gen.output_url ?? gen.error_message);`,
    curlSecret: `curl -s ${publicUrl}/v1/webhooks/secret -H "Authorization: Bearer $PIPEVIDEO_KEY"
# {"secret":"whsec_…"}`,
    webhookVerify: WEBHOOK_VERIFY_JS,
    curlAdminKey: `# Operators (ADMIN_TOKEN set): create an organization, a key and credits
curl -s -X POST ${publicUrl}/admin/v1/orgs -H "Authorization: Bearer $ADMIN_TOKEN" \\
  -H "Content-Type: application/json" -d '{"name": "Acme"}'
curl -s -X POST ${publicUrl}/admin/v1/orgs/org_…/keys -H "Authorization: Bearer $ADMIN_TOKEN" \\
  -H "Content-Type: application/json" -d '{"name": "server"}'
# {"id":"key_…","key":"pv_…"}`,
  };
}
