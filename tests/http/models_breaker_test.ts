/** /models shows a route whose breaker opened (docs/faults.md): the route is marked paused. */
import assert from "node:assert/strict";
import { BREAKER_MIN_SAMPLES, recordRouteOutcome } from "../../lib/generations/breaker.ts";
import { startTestServer } from "../support/server.ts";

Deno.test("/models marks a route whose breaker is open as paused", async () => {
  const server = await startTestServer({ FAL_KEY: "fal-test" });
  try {
    const page = async () => await (await fetch(server.url + "/models")).text();
    assert.doesNotMatch(await page(), /paused: failing/);
    for (let i = 0; i < BREAKER_MIN_SAMPLES; i++) {
      await recordRouteOutcome(server.services.kv, "alibaba/wan-2.5", "fal", false, Date.now());
    }
    assert.match(await page(), /Routes: fal \(paused: failing\)/);
  } finally {
    await server.close();
  }
});
