import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";

/**
 * API.md's (compat) shapes, field for field: existing clients read exactly these names and types,
 * so each object must have these keys (extras only where listed) with these types.
 */
type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === "string";
const int: Check = (v) => Number.isSafeInteger(v);
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const bool: Check = (v) => typeof v === "boolean";
const nullable = (c: Check): Check => (v) => v === null || c(v);
const oneOf = (...xs: unknown[]): Check => (v) => xs.includes(v);
const arrayOf = (c: Check): Check => (v) => Array.isArray(v) && v.every(c);
const nowSec = () => Math.floor(Date.now() / 1000);
/** A Unix timestamp in seconds (not ms) close to now. */
const seconds: Check = (v) => int(v) && Math.abs((v as number) - nowSec()) < 600;
const record = (c: Check): Check => (v) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(c);

function shape(spec: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v) => {
    assertShape(v, spec, optional);
    return true;
  };
}

function assertShape(
  v: unknown,
  spec: Record<string, Check>,
  optional: Record<string, Check> = {},
  where = "value",
) {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), `${where} is an object`);
  const obj = v as Record<string, unknown>;
  for (const [k, check] of Object.entries(spec)) {
    assert.ok(k in obj, `${where}.${k} is present`);
    assert.ok(check(obj[k]), `${where}.${k} has the right type: ${JSON.stringify(obj[k])}`);
  }
  for (const k of Object.keys(obj)) {
    if (k in spec) continue;
    assert.ok(k in optional, `${where}.${k} is not part of the contract`);
    assert.ok(optional[k](obj[k]), `${where}.${k} has the right type`);
  }
}

const STATUS = oneOf("pending", "processing", "completed", "failed", "cancelled");
const generationSpec = {
  id: (v: unknown) => str(v) && (v as string).startsWith("gen_"),
  status: STATUS,
  model: str,
  output_url: nullable(str),
  cost_cents: nullable(int),
  latency_ms: nullable(int),
  error_message: nullable(str),
  created_at: seconds,
  completed_at: nullable(seconds),
};
// Additive (issue 23): present on every generation, never replacing a compat field.
const generationAdditions = {
  metadata: record(str),
  progress: (v: unknown) => int(v) && (v as number) >= 0 && (v as number) <= 100,
  queue_position: int,
  duration: num,
  resolution: str,
  aspect_ratio: str,
  routing: shape({
    provider: str,
    attempt: int,
    candidates: arrayOf(shape({ model: str, provider: str })),
  }),
  urls: shape({ get: str, cancel: str, events: str }),
  // API.md, "Failure reasons": why a failed or cancelled generation ended, else null.
  error: nullable(shape({ code: str, message: str })),
};
const named = shape({ slug: str, name: str });
const pricing = shape(
  { unit: oneOf("second", "video"), currency: oneOf("usd"), cents: record(int) },
  { audio_cents: record(int) },
);
// Additive: each mode's options as the configured routes honour them.
const modeOptions = shape({
  durations: arrayOf(num),
  resolutions: arrayOf(str),
  aspect_ratios: arrayOf(str),
  audio: bool,
  negative_prompt: bool,
  seed: bool,
  pricing,
}, { durations_at: record(arrayOf(num)) });
const capabilities = shape({
  durations: arrayOf(num),
  resolutions: arrayOf(str),
  aspect_ratios: arrayOf(str),
  image_input: bool,
  audio: bool,
}, {
  image_required: bool,
  negative_prompt: bool,
  seed: bool,
  defaults: shape({ duration: num, resolution: str, aspect_ratio: str }, { audio: bool }),
  modes: shape({}, { text: modeOptions, image: modeOptions }),
});
const modelBase = {
  slug: str,
  name: str,
  display_name: str,
  description: str,
  capabilities,
  pricing,
  maker: named,
  family: named,
};
const errorSpec = {
  message: str,
  error: shape({ type: str, code: str, param: nullable(str) }),
};

Deno.test("compat shapes: generation POST/GET, models, model detail, usage and errors", async () => {
  const server = await startTestServer({}, {}, { background: true });
  try {
    const { key } = await fundedOrg(server.services, 1000);
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: { model: "local/preview", prompt: "compat", duration: 1, resolution: "360p" },
    });
    assert.equal(created.status, 200);
    assert.match(created.headers.get("Content-Type")!, /^application\/json/);
    assertShape(
      created.body,
      {
        id: generationSpec.id,
        status: oneOf("pending"),
        created_at: seconds,
      },
      { ...generationSpec, ...generationAdditions },
      "POST",
    );
    // The cost is known at submit and shown from the start (issue 23).
    assert.ok(created.body.cost_cents > 0, JSON.stringify(created.body));

    const id = created.body.id;
    const pending = await call(server.url, "GET", `/v1/video/generations/${id}`, { key });
    assertShape(pending.body, generationSpec, generationAdditions, "GET");
    assert.equal(pending.body.cost_cents, created.body.cost_cents);
    const done = await waitFor(
      async () => {
        const r = await call(server.url, "GET", `/v1/video/generations/${id}`, { key });
        return r.body.status === "completed" ? r.body : undefined;
      },
      "completed",
      60_000,
    );
    assertShape(
      done,
      {
        ...generationSpec,
        output_url: str,
        cost_cents: int,
        latency_ms: int,
        completed_at: seconds,
      },
      generationAdditions,
      "GET completed",
    );
    assert.equal(done.error_message, null);
    assert.equal(done.error, null);

    const withMeta = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: {
        model: "local/preview",
        prompt: "m",
        duration: 1,
        resolution: "360p",
        metadata: { a: "b" },
      },
    });
    const meta = await call(server.url, "GET", `/v1/video/generations/${withMeta.body.id}`, {
      key,
    });
    assertShape(meta.body, generationSpec, generationAdditions, "GET with metadata");
    assert.deepEqual(meta.body.metadata, { a: "b" });

    const list = await call(server.url, "GET", "/v1/video/generations?limit=1", { key });
    assertShape(list.body, {
      data: arrayOf(shape(generationSpec, generationAdditions)),
      next_cursor: nullable(str),
    });
    assert.equal(list.body.data.length, 1);
    assert.equal(typeof list.body.next_cursor, "string");
    const page2 = await call(
      server.url,
      "GET",
      `/v1/video/generations?limit=1&cursor=${encodeURIComponent(list.body.next_cursor)}`,
      { key },
    );
    assert.deepEqual(
      [...list.body.data, ...page2.body.data].map((g: { id: string }) => g.id),
      [withMeta.body.id, id],
    );
    const completedOnly = await call(server.url, "GET", "/v1/video/generations?status=completed", {
      key,
    });
    // The second generation may have completed too by now; the filter keeps completed ones only.
    assert.ok(completedOnly.body.data.some((g: { id: string }) => g.id === id));
    assert.ok(completedOnly.body.data.every((g: { status: string }) => g.status === "completed"));

    const models = await call(server.url, "GET", "/v1/models", { key });
    assertShape(
      models.body,
      {
        models: arrayOf(shape({
          ...modelBase,
          routes: arrayOf(shape({ provider: str, host: str })),
        })),
      },
      {},
      "models",
    );
    assert.ok(models.body.models.some((m: { slug: string }) => m.slug === "local/preview"));

    const detailSpec = {
      model: shape({
        id: str,
        ...modelBase,
        routes: arrayOf(shape({ provider: named, host: named })),
      }),
      metrics: shape({
        totalRequests: int,
        completedRequests: int,
        failedRequests: int,
        successRate: (v) => num(v) && (v as number) >= 0 && (v as number) <= 100,
        avgLatencyMs: num,
        p50LatencyMs: num,
        p95LatencyMs: num,
      }, {
        // Additive: each route's breaker state and duplicate-job counts (docs/faults.md).
        routes: arrayOf(shape({
          provider: str,
          breaker: oneOf("closed", "open", "half_open"),
          recent_failure_rate: num,
          duplicate_jobs: int,
          duplicate_jobs_cancelled: int,
          interrupted_submits: int,
          orphans_adopted: int,
        })),
      }),
    };
    for (const path of ["/v1/models/local%2Fpreview", "/v1/models/local/preview"]) {
      const d = await call(server.url, "GET", path, { key });
      assert.equal(d.status, 200, path);
      assertShape(d.body, detailSpec, {}, path);
      assert.equal(d.body.model.slug, "local/preview");
      assert.ok(d.body.metrics.completedRequests >= 1);
      assert.equal(d.body.metrics.successRate, 100);
    }

    const usage = await call(server.url, "GET", "/v1/usage", { key });
    assertShape(
      usage.body,
      {
        credit_balance: int,
        totals: shape({
          total_requests: int,
          completed_requests: int,
          failed_requests: int,
          total_cost_cents: int,
        }),
        daily_usage: arrayOf(shape({
          date: (v) => str(v) && /^\d{4}-\d{2}-\d{2}$/.test(v as string),
          request_count: int,
          completed_count: int,
          failed_count: int,
          total_cost_cents: int,
          total_duration_seconds: num,
        })),
        recent_requests: arrayOf(shape({
          id: str,
          status: STATUS,
          model_name: str,
          cost_cents: nullable(int),
          latency_ms: nullable(int),
          created_at: seconds,
          completed_at: nullable(seconds),
        })),
      },
      // API.md: /v1/usage may gain fields; by_key is the spend per API key.
      {
        by_key: arrayOf(shape({ key_id: str, name: str }, {
          limit_cents: () => true,
          limit_reset: str,
          resets_at: () => true,
          today: () => true,
          period: () => true,
          all_time: () => true,
        })),
      },
      "usage",
    );
    assert.equal(usage.body.totals.total_requests, 2);
    assert.equal(usage.body.daily_usage.length, 1);
    assert.equal(usage.body.recent_requests.length, 2);

    for (
      const [method, path, status] of [
        ["GET", "/v1/models/nope%2Fnothing", 404],
        ["GET", "/v1/models/nope/nothing", 404],
        ["GET", "/v1/video/generations/gen_nope", 404],
        ["POST", "/v1/video/generations", 400],
      ] as const
    ) {
      const r = await call(server.url, method, path, {
        key,
        body: method === "POST" ? {} : undefined,
      });
      assert.equal(r.status, status, path);
      assertShape(r.body, errorSpec, {}, `${method} ${path}`);
    }
    assertShape((await call(server.url, "GET", "/v1/usage")).body, errorSpec, {}, "401");
  } finally {
    await server.close();
  }
});

Deno.test("the public pipevideo-mcp client's calls work unchanged, camelCase aspectRatio included", async () => {
  const server = await startTestServer({}, {}, { background: true });
  try {
    const { key } = await fundedOrg(server.services, 1000);
    // Its generate_video body, exactly: {model, prompt, provider?, duration?, aspectRatio?}.
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: {
        model: "local/preview",
        prompt: "a harbour at dawn",
        provider: "local",
        duration: 1,
        aspectRatio: "9:16",
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.status, "pending");
    assert.equal(created.body.aspect_ratio, "9:16", "the alias was honoured, not dropped");
    const models = await call(server.url, "GET", "/v1/models", { key });
    assert.equal(models.status, 200);
    assert.ok(models.body.models.some((m: { slug: string }) => m.slug === "local/preview"));
    const model = await call(server.url, "GET", "/v1/models/local%2Fpreview", { key });
    assert.equal(model.status, 200);
    assert.equal(model.body.model.slug, "local/preview");
    const got = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, { key });
    assertShape(got.body, generationSpec, generationAdditions, "GET");
    const usage = await call(server.url, "GET", "/v1/usage", { key });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.recent_requests[0].id, created.body.id);
  } finally {
    await server.close();
  }
});
