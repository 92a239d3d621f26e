/**
 * Over HTTP: an option no configured route honours is refused with 400 naming it, and charges
 * nothing; the admin ledger lists per-route margins from what providers reported.
 */
import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { addRouteCosts } from "../../lib/db/route_costs.ts";
import { call, fundedOrg } from "../support/api.ts";

const TOKEN = "admin-token-0123456789";

Deno.test("POST /v1/video/generations: options a route would ignore are 400 with param, nothing charged", async () => {
  const server = await startTestServer({
    FAL_KEY: "fal-key-id:secret",
    GEMINI_API_KEY: "AIzaKey0123",
  });
  try {
    const org = await fundedOrg(server.services, 10_000);
    const post = (body: Record<string, unknown>) =>
      call(server.url, "POST", "/v1/video/generations", {
        key: org.key,
        body: { prompt: "a red fox", ...body },
      });
    const cases: [Record<string, unknown>, string][] = [
      // fal Kling 3.0 image-to-video has no aspect_ratio: the video follows the image.
      [{
        model: "kwaivgi/kling-v3-pro",
        image_url: "https://example.com/a.png",
        aspect_ratio: "9:16",
      }, "aspect_ratio"],
      // Hailuo has no aspect ratio field at all.
      [
        {
          model: "minimax/hailuo-02",
          image_url: "https://example.com/a.png",
          aspect_ratio: "16:9",
        },
        "aspect_ratio",
      ],
      // No seeds on Kling: refused, not dropped.
      [{ model: "kwaivgi/kling-v2.5-turbo-pro", seed: 3 }, "seed"],
      [{ model: "bytedance/seedance-1-pro", negative_prompt: "blur" }, "negative_prompt"],
      [{ model: "alibaba/wan-2.5", resolution: "480p" }, "resolution"],
    ];
    for (const [body, param] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, JSON.stringify([body, r.body]));
      assert.equal(r.body.error.param, param, JSON.stringify(r.body));
    }
    assert.equal(await getBalance(server.services.kv, org.orgId), 10_000);
    // Seeded Veo goes to fal (the Gemini API has no seed) and is accepted.
    const ok = await post({ model: "google/veo-3.1", seed: 3, duration: 8 });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  } finally {
    await server.close();
  }
});

Deno.test("GET /admin/v1/ledger/margins: per-route price against reported cost, worst first; admin only", async () => {
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN });
  try {
    const a = server.services.kv.atomic();
    addRouteCosts(a, "runway", "gen4_turbo", {
      reported_count: 2,
      price_cents: 70,
      reported_millicents: 100_000,
      over_price_count: 2,
    });
    addRouteCosts(a, "fal", "fal-ai/veo3.1", {
      reported_count: 1,
      price_cents: 400,
      reported_millicents: 320_000,
      over_price_count: 0,
    });
    assert.ok((await a.commit()).ok);
    const denied = await call(server.url, "GET", "/admin/v1/ledger/margins");
    assert.equal(denied.status, 401);
    const r = await call(server.url, "GET", "/admin/v1/ledger/margins", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.data.map((
        x: { upstream_model: string; margin_cents: number },
      ) => [x.upstream_model, x.margin_cents]),
      [
        ["gen4_turbo", -30],
        ["fal-ai/veo3.1", 80],
      ],
    );
  } finally {
    await server.close();
  }
});
