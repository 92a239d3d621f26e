/**
 * Fallback and image_url safety through the HTTP API: a model whose provider is down on submit
 * hands over to the next model (or the same model's next route), charged what ran; in
 * production an image_url aimed at our own network fails without any request being made.
 */
import assert from "node:assert/strict";
import { findModel, priceOn } from "../../lib/catalog/mod.ts";
import { verifyLedger } from "../../lib/db/ledger.ts";
import type { ProviderId } from "../../lib/providers/types.ts";
import { MAX_SUBMIT_RETRIES } from "../../lib/providers/faults.ts";
import { fixture, replay } from "../support/replay.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { makeTinyMp4 } from "../support/video.ts";
import { withGeminiVeoLive } from "../support/generations.ts";
import { allLedger, call, fundedOrg, waitFor } from "../support/api.ts";

type F = Record<string, Record<string, unknown>>;

function untilTerminal(server: TestServer, key: string, id: string) {
  return waitFor(async () => {
    const r = await call(server.url, "GET", `/v1/video/generations/${id}`, { key });
    assert.equal(r.status, 200);
    return ["completed", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
  }, `generation ${id} to end`);
}

/** Providers poll every 5–10 s; the tests swap in the same adapters polling every 20 ms. */
function fastPolls(server: TestServer) {
  const adapters = server.services.generation.adapters;
  for (const id of Object.keys(adapters) as ProviderId[]) {
    if (id !== "local") adapters[id] = { ...adapters[id]!, pollIntervalMs: 20 };
  }
  server.services.generation.random = () => 0; // the shortest backoff between submit retries
}

function price(model: string, provider: ProviderId, opts: {
  duration: number;
  resolution: string;
  audio?: boolean;
}, margin: number) {
  const route = findModel(model)!.routes.find((r) => r.provider === provider)!;
  return priceOn(route, { prompt: "", aspectRatio: "16:9", ...opts }, margin);
}

/** The ledger explains the balance: balance == sum, and at most one refund per generation. */
async function assertLedger(server: TestServer, orgId: string, balance: number) {
  assert.deepEqual(await verifyLedger(server.services.kv, orgId), {
    balance,
    sum: balance,
    ok: true,
  });
  const refunds = (await allLedger(server.services, orgId))
    .filter((e) => e.kind === "refund").map((e) => e.generation_id);
  assert.equal(new Set(refunds).size, refunds.length, `refunded twice: ${refunds}`);
}

// Tests poll the API quickly; the per-key rate limit is not what they are about.
const FAST = { RATE_LIMIT_PER_MINUTE: "100000" };

Deno.test("models [A, B]: A's provider answers 503 on every submit retry, B completes, the charge is B's price", async () => {
  const f = await fixture<F>("fal");
  // A transient 503 is retried on the same route first (MAX_SUBMIT_RETRIES), then falls over.
  await using s = replay(
    Array(1 + MAX_SUBMIT_RETRIES).fill({
      method: "POST",
      path: "/fal-ai/wan-25-preview/text-to-video",
      status: 503,
      json: f.unavailable,
    }),
  );
  const server = await startTestServer(
    { ...FAST, FAL_KEY: "fal-key-id:fal-key-secret-0123456789", FAL_QUEUE_URL: s.url },
    {},
    { background: true },
  );
  try {
    server.services.generation.random = () => 0; // the shortest backoff between retries
    const org = await fundedOrg(server.services, 5_000);
    // 720p: fal's Wan text-to-video endpoint has no 480p (only its image-to-video twin does).
    const opts = { duration: 5, resolution: "720p" };
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: org.key,
      body: {
        models: ["alibaba/wan-2.5", "local/preview"],
        prompt: "a lighthouse at dusk",
        ...opts,
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const g = await untilTerminal(server, org.key, created.body.id);
    assert.equal(g.status, "completed", g.error_message);
    assert.equal(g.model, "local/preview");
    const margin = server.services.config.PRICE_MARGIN;
    const expected = price("local/preview", "local", opts, margin);
    assert.notEqual(expected, price("alibaba/wan-2.5", "fal", opts, margin));
    assert.equal(g.cost_cents, expected);
    const usage = await call(server.url, "GET", "/v1/usage", { key: org.key });
    assert.equal(usage.body.credit_balance, 5_000 - expected);
    await assertLedger(server, org.orgId, 5_000 - expected);
    s.assertDone();
  } finally {
    await server.close();
  }
});

Deno.test("one model, two routes: gemini answers 503 on every submit retry, the fal route of the same model completes", async () => {
  const [gf, ff] = await Promise.all([fixture<F>("gemini"), fixture<F>("fal")]);
  const dir = await Deno.makeTempDir();
  await makeTinyMp4(`${dir}/v.mp4`);
  const video = await Deno.readFile(`${dir}/v.mp4`);
  await Deno.remove(dir, { recursive: true });
  const req = "/fal-ai/veo3.1/fast/requests/764cabcf";
  // One replay server plays both providers.
  await using s = replay([
    ...Array(1 + MAX_SUBMIT_RETRIES).fill({
      method: "POST",
      path: "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning",
      status: 503,
      json: gf.unavailable,
    }),
    {
      method: "POST",
      path: "/fal-ai/veo3.1/fast",
      json: {
        ...ff.submitted,
        request_id: "764cabcf",
        status_url: `{base}${req}/status`,
        response_url: `{base}${req}`,
        cancel_url: `{base}${req}/cancel`,
      },
    },
    { method: "GET", path: `${req}/status`, json: ff.inProgress },
    { method: "GET", path: `${req}/status`, json: ff.completed },
    { method: "GET", path: req, json: { video: { url: "{base}/media/veo.mp4" } } },
    { method: "GET", path: "/media/veo.mp4", bytes: video },
  ]);
  const server = await startTestServer(
    {
      ...FAST,
      GEMINI_API_KEY: "AIzaTestGeminiKey0123456789",
      GEMINI_BASE_URL: s.url,
      FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
      FAL_QUEUE_URL: s.url,
    },
    {},
    { background: true },
  );
  try {
    fastPolls(server);
    // Google retired these Gemini routes (2026-10-22); the failover they exercise is the same.
    server.services.generation.models = withGeminiVeoLive();
    const org = await fundedOrg(server.services, 5_000);
    // With sound: the Gemini API always makes it, so audio: false would not go there at all.
    const opts = { duration: 4, resolution: "720p", audio: true };
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: org.key,
      // gemini first (the client's order), fal is the same model's other route.
      body: {
        model: "google/veo-3.1-fast",
        prompt: "waves",
        provider: { order: ["gemini"] },
        ...opts,
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const g = await untilTerminal(server, org.key, created.body.id);
    assert.equal(g.status, "completed", g.error_message);
    const margin = server.services.config.PRICE_MARGIN;
    const expected = price("google/veo-3.1-fast", "fal", opts, margin);
    assert.notEqual(expected, price("google/veo-3.1-fast", "gemini", opts, margin));
    assert.equal(g.cost_cents, expected);
    await assertLedger(server, org.orgId, 5_000 - expected);
    s.assertDone();
  } finally {
    await server.close();
  }
});

Deno.test("production: image_url on loopback, link-local metadata or ::1 fails and refunds, no request made", async () => {
  await using s = replay([]); // any request at all would be recorded here
  const port = new URL(s.url).port;
  const server = await startTestServer(
    {
      ...FAST,
      APP_ENV: "production",
      SECRET_KEY: "prod-secret-0123456789abcdef0123456789abcdef",
      GEMINI_API_KEY: "AIzaTestGeminiKey0123456789",
      GEMINI_BASE_URL: s.url,
    },
    {},
    { background: true },
  );
  try {
    assert.equal(server.services.config.production, true);
    server.services.generation.models = withGeminiVeoLive(); // the retired route, as before
    const org = await fundedOrg(server.services, 5_000);
    const urls = [
      `http://127.0.0.1:${port}/cat.png`,
      "http://169.254.169.254/latest/meta-data/iam/cat.png",
      `http://[::1]:${port}/cat.png`,
    ];
    for (const image_url of urls) {
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key: org.key,
        body: {
          model: "google/veo-3.1",
          prompt: "animate",
          duration: 4,
          resolution: "720p",
          image_url,
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const g = await untilTerminal(server, org.key, created.body.id);
      assert.equal(g.status, "failed");
      assert.match(g.error_message, /^image_url could not be used: .*is not allowed/);
      assert.equal(g.cost_cents, 0);
    }
    // Three charges, each refunded once; the upstream never heard of any of it.
    assert.equal((await allLedger(server.services, org.orgId)).length, 7);
    assert.deepEqual(s.requests.map((r) => r.path), []);
    await assertLedger(server, org.orgId, 5_000);
  } finally {
    await server.close();
  }
});
