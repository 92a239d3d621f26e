import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance, verifyLedger } from "../../lib/db/ledger.ts";
import { getUsageTotals } from "../../lib/db/usage.ts";
import { allLedger, call, fundedOrg } from "../support/api.ts";

const ok = { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" };

interface Case {
  name: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code?: string;
  /** The field named in `error.param` (null: none); a nested path under it also matches. */
  param: string | null;
}

const cases: Case[] = [
  {
    name: "malformed JSON",
    raw: '{"model": "local/preview",',
    status: 400,
    code: "invalid_json",
    param: null,
  },
  { name: "empty body", raw: "", status: 400, code: "invalid_json", param: null },
  {
    name: "form-encoded body",
    raw: "model=local/preview&prompt=x",
    status: 400,
    code: "invalid_json",
    param: null,
  },
  { name: "body is an array", body: [ok], status: 400, param: null },
  { name: "body is a string", body: "make a video", status: 400, param: null },
  { name: "body is null", body: null, status: 400, param: null },
  { name: "missing prompt", body: { ...ok, prompt: undefined }, status: 400, param: "prompt" },
  { name: "empty prompt", body: { ...ok, prompt: "" }, status: 400, param: "prompt" },
  { name: "whitespace prompt", body: { ...ok, prompt: " \n\t " }, status: 400, param: "prompt" },
  {
    name: "oversized prompt",
    body: { ...ok, prompt: "x".repeat(4001) },
    status: 400,
    param: "prompt",
  },
  { name: "prompt is a number", body: { ...ok, prompt: 42 }, status: 400, param: "prompt" },
  { name: "no model nor models", body: { ...ok, model: undefined }, status: 400, param: "model" },
  { name: "empty model", body: { ...ok, model: "" }, status: 400, param: "model" },
  { name: "model is a number", body: { ...ok, model: 7 }, status: 400, param: "model" },
  {
    name: "unknown model",
    body: { ...ok, model: "nope/none" },
    status: 400,
    code: "model_not_found",
    param: "model",
  },
  {
    name: "model without a configured provider",
    body: { ...ok, model: "google/veo-3.1", duration: 8, resolution: "720p" },
    status: 400,
    code: "model_unavailable",
    param: "model",
  },
  {
    name: "models empty",
    body: { ...ok, model: undefined, models: [] },
    status: 400,
    param: "models",
  },
  {
    name: "models is a string",
    body: { ...ok, model: undefined, models: "local/preview" },
    status: 400,
    param: "models",
  },
  {
    name: "both model and models",
    body: { ...ok, models: ["local/preview"] },
    status: 400,
    param: "models",
  },
  {
    name: "models holds an unknown model",
    body: { ...ok, model: undefined, models: ["local/preview", "nope/x"] },
    status: 400,
    code: "model_not_found",
    param: "models",
  },
  {
    name: "unsupported duration",
    body: { ...ok, duration: 7 },
    status: 400,
    code: "unsupported_option",
    param: "duration",
  },
  { name: "duration is a string", body: { ...ok, duration: "4" }, status: 400, param: "duration" },
  { name: "negative duration", body: { ...ok, duration: -1 }, status: 400, param: "duration" },
  { name: "absurd duration", body: { ...ok, duration: 1e9 }, status: 400, param: "duration" },
  {
    name: "unsupported resolution",
    body: { ...ok, resolution: "8k" },
    status: 400,
    code: "unsupported_option",
    param: "resolution",
  },
  {
    name: "resolution is a number",
    body: { ...ok, resolution: 720 },
    status: 400,
    param: "resolution",
  },
  {
    name: "unsupported aspect_ratio",
    body: { ...ok, aspect_ratio: "4:3" },
    status: 400,
    code: "unsupported_option",
    param: "aspect_ratio",
  },
  {
    name: "unsupported aspectRatio",
    body: { ...ok, aspectRatio: "21:9" },
    status: 400,
    code: "unsupported_option",
    param: "aspect_ratio",
  },
  {
    name: "image_url not a URL",
    body: { ...ok, image_url: "not a url" },
    status: 400,
    param: "image_url",
  },
  {
    name: "image_url not http(s)",
    body: { ...ok, image_url: "ftp://example.com/a.png" },
    status: 400,
    param: "image_url",
  },
  {
    name: "imageUrl javascript:",
    body: { ...ok, imageUrl: "javascript:alert(1)" },
    status: 400,
    param: "imageUrl",
  },
  {
    name: "image on a text-only model",
    body: { ...ok, image_url: "https://example.com/a.png" },
    status: 400,
    code: "unsupported_option",
    param: "image_url",
  },
  {
    name: "unknown provider",
    body: { ...ok, provider: "nope" },
    status: 400,
    code: "model_unavailable",
    param: "provider",
  },
  {
    name: "provider order empty",
    body: { ...ok, provider: { order: [] } },
    status: 400,
    param: "provider",
  },
  { name: "provider is a number", body: { ...ok, provider: 7 }, status: 400, param: "provider" },
  {
    name: "metadata with too many keys",
    body: {
      ...ok,
      metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])),
    },
    status: 400,
    param: "metadata",
  },
  {
    name: "metadata value too long",
    body: { ...ok, metadata: { note: "x".repeat(513) } },
    status: 400,
    param: "metadata",
  },
  {
    name: "metadata value not a string",
    body: { ...ok, metadata: { n: 1 } },
    status: 400,
    param: "metadata",
  },
  {
    name: "metadata is an array",
    body: { ...ok, metadata: ["a"] },
    status: 400,
    param: "metadata",
  },
  { name: "negative seed", body: { ...ok, seed: -1 }, status: 400, param: "seed" },
  { name: "fractional seed", body: { ...ok, seed: 1.5 }, status: 400, param: "seed" },
  { name: "audio not a boolean", body: { ...ok, audio: "yes" }, status: 400, param: "audio" },
  {
    name: "negative_prompt not a string",
    body: { ...ok, negative_prompt: 5 },
    status: 400,
    param: "negative_prompt",
  },
  {
    name: "bad webhook_url",
    body: { ...ok, webhook_url: "http//nope" },
    status: 400,
    param: "webhook_url",
  },
  {
    name: "a typo of a known field (issue 23: it used to be charged at the default)",
    body: { ...ok, resolutoin: "720p" },
    status: 400,
    code: "unknown_parameter",
    param: "resolutoin",
  },
  {
    name: "a field the API does not have",
    body: { ...ok, style: "noir" },
    status: 400,
    code: "unknown_parameter",
    param: "style",
  },
  {
    name: "an unknown field inside provider",
    body: { ...ok, provider: { order: ["local"], strict: true } },
    status: 400,
    param: "provider",
  },
  {
    name: "both spellings of one field, disagreeing",
    body: { ...ok, aspectRatio: "16:9", aspect_ratio: "9:16" },
    status: 400,
    param: "aspectRatio",
  },
  {
    name: "body over the size limit",
    body: { ...ok, prompt: "x".repeat(1_100_000) },
    status: 413,
    code: "payload_too_large",
    param: null,
  },
  {
    name: "X-Application-Name too long",
    body: ok,
    headers: { "X-Application-Name": "a".repeat(257) },
    status: 400,
    param: "X-Application-Name",
  },
  {
    name: "Idempotency-Key too long",
    body: ok,
    headers: { "Idempotency-Key": "k".repeat(256) },
    status: 400,
    param: "Idempotency-Key",
  },
  {
    name: "Idempotency-Key reused with another body",
    body: { ...ok, prompt: "another" },
    headers: { "Idempotency-Key": "idem-1" },
    status: 409,
    code: "idempotency_key_reused",
    param: null,
  },
  {
    name: "more than the balance",
    body: { ...ok, duration: 10, resolution: "1080p" },
    status: 402,
    code: "insufficient_credits",
    param: null,
  },
];

Deno.test(`bad input: ${cases.length} requests each get their 4xx and change nothing`, async () => {
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "1000" });
  try {
    const { services } = server;
    const { orgId, key } = await fundedOrg(services, 20);
    // The idempotency key in use (charges 1 cent), then the state every bad request must leave as is.
    const first = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: ok,
      headers: { "Idempotency-Key": "idem-1" },
    });
    assert.equal(first.status, 200);
    const snapshot = async () => ({
      balance: await getBalance(services.kv, orgId),
      ledger: await allLedger(services, orgId),
      list: (await call(server.url, "GET", "/v1/video/generations", { key })).body,
      totals: await getUsageTotals(services.kv, orgId),
    });
    const before = await snapshot();
    assert.equal(before.balance, 19);
    assert.equal(before.list.data.length, 1);

    const failures: string[] = [];
    for (const c of cases) {
      const r = await call(server.url, "POST", "/v1/video/generations", {
        key,
        ...(c.raw !== undefined
          ? { rawBody: c.raw, headers: { "Content-Type": "application/json", ...c.headers } }
          : { body: c.body, headers: c.headers }),
      });
      const e = r.body?.error;
      const param = e?.param ?? null;
      const paramOk = c.param === null
        ? param === null
        : param === c.param || String(param).startsWith(c.param + ".");
      if (
        r.status !== c.status || typeof r.body?.message !== "string" || !paramOk ||
        (c.code && e?.code !== c.code)
      ) {
        failures.push(`${c.name}: got ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(await snapshot(), before);
    assert.equal((await verifyLedger(services.kv, orgId)).ok, true);

    // The same key and body replays the first answer without charging again.
    const replay = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: ok,
      headers: { "Idempotency-Key": "idem-1" },
    });
    assert.deepEqual(replay.body, first.body);
    assert.deepEqual(await snapshot(), before);
  } finally {
    await server.close();
  }
});

Deno.test("bad query and path input on the other generation endpoints", async () => {
  const server = await startTestServer();
  try {
    const { key } = await fundedOrg(server.services, 0);
    const get = (path: string) => call(server.url, "GET", path, { key });
    for (
      const [path, param] of [
        ["/v1/video/generations?limit=0", "limit"],
        ["/v1/video/generations?limit=101", "limit"],
        ["/v1/video/generations?limit=ten", "limit"],
        ["/v1/video/generations?status=done", "status"],
      ] as const
    ) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.error.param, param, path);
    }
    const missing = await get("/v1/video/generations/gen_01JZZZZZZZZZZZZZZZZZZZZZZZ");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.param, "id");
    const wrongMethod = await call(server.url, "DELETE", "/v1/video/generations", { key });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.body.error.code, "method_not_allowed");
  } finally {
    await server.close();
  }
});
