import assert from "node:assert/strict";
import { generationKey, type GenerationRecord } from "../db/generations.ts";
import { createGeneration } from "./service.ts";
import { parseGenerationBody } from "./schema.ts";
import { pollGeneration, submitGeneration } from "./workers.ts";
import { fundedOrg, testClock, testDeps } from "../../tests/support/generations.ts";
import { findModel } from "../catalog/mod.ts";
import { reportedCostCents, routeMargins } from "./settlement.ts";
import { runwayProvider } from "../providers/runway.ts";
import { replay } from "../../tests/support/replay.ts";

const ID = "17f20503-6c24-4c16-946b-35dbbce2af2f";

/**
 * A funded org's 5 s runway/gen4-turbo image-to-video run against the Runway replay at `url`:
 * submitted, polled after a minute, then polled again (a duplicate delivery that must change
 * nothing). Returns the generation after both polls and what was logged.
 */
async function runRunwayTask(kv: Deno.Kv, dir: string, url: string) {
  const clock = testClock();
  const logs: string[] = [];
  const deps = testDeps(kv, dir, {
    now: clock.now,
    adapters: { runway: runwayProvider },
    providerDeps: {
      fetch,
      env: { RUNWAYML_API_SECRET: "key_0123456789", RUNWAYML_BASE_URL: url },
      workDir: dir,
    },
    fetchImage: () =>
      Promise.resolve({ bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), mimeType: "image/png" }),
    log: (m) => logs.push(m),
  });
  const org = await fundedOrg(kv, 1000, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({
      model: "runway/gen4-turbo",
      prompt: "a fox",
      duration: 5,
      image_url: "https://example.com/a.png",
    }),
  );
  await submitGeneration(deps, id);
  clock.advance(60_000);
  await pollGeneration(deps, id);
  await pollGeneration(deps, id);
  const g = (await kv.get<GenerationRecord>(generationKey(id))).value!;
  return { g, logs };
}

Deno.test("reconcile: Runway's reported cost is recorded once; above our price it is logged and the route's margin goes negative", async () => {
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const video = new Uint8Array([0, 0, 0, 24, 102, 116, 121, 112]);
  const done = (credits: number) => ({
    id: ID,
    status: "SUCCEEDED",
    createdAt: "2026-11-29T00:00:00Z",
    output: ["{base}/media/out.mp4"],
    cost: { credits },
  });
  await using s = replay([
    { method: "POST", path: "/v1/image_to_video", json: { id: ID } },
    { method: "GET", path: `/v1/tasks/${ID}`, json: done(50) },
    { method: "GET", path: "/media/out.mp4", bytes: video },
  ]);
  try {
    const { g, logs } = await runRunwayTask(kv, dir, s.url);
    assert.equal(g.status, "completed");
    assert.equal(g.cost_cents, 35); // 5 c/s x 1.25 = 7 c/s x 5 s
    assert.deepEqual(g.upstream_reported, { credits: 50, costCents: 50, cost_cents: 50 });
    assert.equal(
      logs.filter((l) => /reported a cost of 50 cents.*above our price of 35/.test(l)).length,
      1,
    );
    assert.deepEqual(await routeMargins(kv), [{
      provider: "runway",
      upstream_model: "gen4_turbo",
      reported_count: 1,
      price_cents: 35,
      reported_cost_cents: 50,
      margin_cents: -15,
      over_price_count: 1,
    }]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reconcile: a failed Runway task it billed anyway is refunded to the user and shows as a loss", async () => {
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  await using s = replay([
    { method: "POST", path: "/v1/image_to_video", json: { id: ID } },
    {
      method: "GET",
      path: `/v1/tasks/${ID}`,
      json: {
        id: ID,
        status: "FAILED",
        createdAt: "2026-11-29T00:00:00Z",
        failure: "Invalid asset",
        failureCode: "INPUT_PREPROCESSING.INVALID",
        cost: { credits: 20 },
      },
    },
  ]);
  try {
    const { g, logs } = await runRunwayTask(kv, dir, s.url);
    assert.equal(g.status, "failed");
    assert.equal(g.cost_cents, 0);
    assert.equal(logs.filter((l) => /20 cents.*failed attempt/.test(l)).length, 1);
    const [m] = await routeMargins(kv);
    assert.deepEqual([m.price_cents, m.reported_cost_cents, m.margin_cents, m.over_price_count], [
      0,
      20,
      -20,
      1,
    ]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reconcile: fal's billed units are priced at the route's cost for what was asked", () => {
  const veo = findModel("google/veo-3.1")!.routes.find((r) => r.provider === "fal")!;
  const req = { prompt: "p", duration: 8, resolution: "720p", aspectRatio: "16:9" };
  assert.equal(reportedCostCents(veo, { ...req, audio: true }, { billableUnits: 8 }), 320);
  assert.equal(reportedCostCents(veo, { ...req, audio: false }, { billableUnits: 8 }), 160);
  assert.equal(reportedCostCents(veo, req, { predictTimeSeconds: 80 }), undefined);
});
