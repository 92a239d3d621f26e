import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import {
  buildOpenApiDocument,
  generationRequestJsonSchema,
  generationSchema,
  modelDetailSchema,
  modelListSchema,
  quickstartSnippets,
  REQUEST_FIELD_DOCS,
  usageSchema,
  WEBHOOK_VERIFY_JS,
} from "./openapi.ts";
import { parseGenerationBody } from "./generations/schema.ts";
import { getUsage, toApiGeneration } from "./generations/service.ts";
import type { GenerationRecord } from "./db/generations.ts";
import { getModelDetail, listModels } from "./catalog/public.ts";
import { createServices } from "./services.ts";
import { testConfig } from "./config.ts";

const doc = buildOpenApiDocument("https://video.example.com");

Deno.test("the document is valid OpenAPI 3.1 and survives a JSON round trip", async () => {
  const roundTripped = JSON.parse(JSON.stringify(doc));
  const result = await new Validator().validate(roundTripped);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  assert.equal(roundTripped.openapi, "3.1.0");
  assert.deepEqual(roundTripped.servers, [{ url: "https://video.example.com" }]);
});

Deno.test("the document has API.md's paths, bearer auth and the error schema", () => {
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  const ops = Object.entries(paths).flatMap(([p, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`)
  ).sort();
  assert.deepEqual(
    ops,
    [
      "GET /v1/key",
      "GET /v1/models",
      "GET /v1/models/{slug}",
      "GET /v1/usage",
      "DELETE /v1/videos/{id}",
      "GET /v1/videos",
      "GET /v1/videos/{id}",
      "GET /v1/videos/{id}/content",
      "POST /v1/videos",
      "GET /v1/video/generations",
      "GET /v1/video/generations/{id}",
      "GET /v1/video/generations/{id}/events",
      "GET /v1/webhooks/secret",
      "POST /v1/video/generations",
      "POST /v1/video/generations/{id}/cancel",
    ].sort(),
  );
  const components = doc.components as {
    securitySchemes: Record<string, { scheme: string }>;
    schemas: Record<string, { properties: Record<string, unknown> }>;
  };
  assert.equal(components.securitySchemes.bearerAuth.scheme, "bearer");
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  const err = components.schemas.Error.properties;
  assert.ok(err.message && err.error);
});

// One valid value per request field; a new field in the schema must be added here (tested).
const SAMPLES: Record<string, unknown> = {
  model: "local/preview",
  models: ["local/preview"],
  prompt: "a lighthouse at dusk",
  duration: 4,
  resolution: "480p",
  aspect_ratio: "16:9",
  image_url: "https://img.example.com/a.png",
  provider: { order: ["local"] },
  negative_prompt: "blur",
  seed: 7,
  audio: false,
  enhance_prompt: true,
  webhook_url: "https://hooks.example.com/pv",
  metadata: { user: "u1" },
};

Deno.test("every field the OpenAPI request schema has is accepted by the API's parser", () => {
  const schema = generationRequestJsonSchema();
  const props = Object.keys(schema.properties as object).sort();
  assert.deepEqual(props, Object.keys(SAMPLES).sort());
  assert.deepEqual(Object.keys(REQUEST_FIELD_DOCS).sort(), props);
  assert.deepEqual(schema.required, ["prompt"]);
  for (const field of props) {
    // `model` and `models` are exclusive (API.md): a `models` sample goes without `model`.
    const model = field === "models" ? {} : { model: "local/preview" };
    const body = { ...model, prompt: "p", [field]: SAMPLES[field] };
    assert.doesNotThrow(() => parseGenerationBody(body), `field ${field}`);
  }
  // The schema's limits are the parser's limits.
  const prompt = (schema.properties as Record<string, { maxLength: number }>).prompt;
  const tooLong = "x".repeat(prompt.maxLength + 1);
  assert.throws(
    () => parseGenerationBody({ model: "local/preview", prompt: tooLong }),
    (e: { param: string }) => e.param === "prompt",
  );
  assert.doesNotThrow(() =>
    parseGenerationBody({ model: "local/preview", prompt: "x".repeat(prompt.maxLength) })
  );
});

Deno.test("the response schemas match what the service returns", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const g = {
      id: "gen_1",
      status: "completed",
      model: "local/preview",
      output: { stored: true },
      cost_cents: 4,
      latency_ms: 1200,
      error_message: null,
      created_at: 1_700_000_000_000,
      completed_at: 1_700_000_001_200,
      metadata: { a: "b" },
    } as unknown as GenerationRecord;
    const api = await toApiGeneration(g, {
      publicUrl: "http://x",
      secretKey: "k".repeat(32),
      nowMs: 1_700_000_002_000,
    });
    assert.deepEqual(generationSchema.strict().parse(api), api);
    const usage = await getUsage(kv, "org_1", Date.now());
    assert.deepEqual(usageSchema.strict().parse(usage), usage);
  } finally {
    kv.close();
  }
});

Deno.test("the model schemas match lib/catalog/public.ts, which /v1/models serves", async () => {
  const config = testConfig();
  const services = await createServices(config, { log: () => {} });
  try {
    const list = { models: listModels(services) };
    assert.ok(list.models.length >= 1);
    assert.deepEqual(modelListSchema.parse(list), list);
    const detail = await getModelDetail(services, "local%2Fpreview");
    assert.deepEqual(modelDetailSchema.parse(detail), detail);
  } finally {
    services.kv.close();
    await Deno.remove(config.DATA_DIR, { recursive: true });
  }
});

Deno.test("the guide's webhook verifier accepts our signatures and refuses tampering", async () => {
  const { newWebhookSecret, webhookHeaders } = await import("./webhooks/sign.ts");
  const mod = await import(
    "data:text/javascript," + encodeURIComponent(WEBHOOK_VERIFY_JS + "\nexport { verifyWebhook };")
  );
  const verify = mod.verifyWebhook as (s: string, h: Headers, b: string) => Promise<boolean>;
  const secret = newWebhookSecret();
  const other = newWebhookSecret();
  const body = JSON.stringify({ eventType: "video.generation.completed", generationId: "gen_1" });
  const now = Math.floor(Date.now() / 1000);
  const headers = new Headers(await webhookHeaders([other, secret], "msg_1", now, body));
  assert.equal(await verify(secret, headers, body), true);
  assert.equal(await verify(secret, headers, body + " "), false);
  assert.equal(await verify(newWebhookSecret(), headers, body), false);
  const stale = new Headers(await webhookHeaders([secret], "msg_1", now - 3600, body));
  assert.equal(await verify(secret, stale, body), false);
});

Deno.test("the guide's snippets name this server", () => {
  const s = quickstartSnippets("https://video.example.com");
  for (const text of Object.values(s).filter((t) => t !== WEBHOOK_VERIFY_JS)) {
    assert.match(text, /https:\/\/video\.example\.com/);
  }
});
