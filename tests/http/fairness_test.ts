/**
 * One organization floods the workers with slow jobs — generations whose image_url never answers
 * (each holds a slot for the 30 s image timeout) and deliveries to a webhook_url that takes 10 s —
 * while another organization submits a one-second local generation. The second must finish
 * within a few seconds of its time on an idle server, not behind the flood.
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { makeTinyMp4 } from "../support/video.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";
import { falStandIn } from "../support/fal_instant.ts";

/** From submit to the generation's event at the webhook receiver (the whole path). */
async function localGenerationMs(
  server: TestServer,
  key: string,
  stand: ReturnType<typeof falStandIn>,
): Promise<number> {
  const t0 = Date.now();
  const r = await call(server.url, "POST", "/v1/video/generations", {
    key,
    body: {
      model: "local/preview",
      prompt: "a quiet one",
      duration: 1,
      resolution: "360p",
      webhook_url: `${stand.base()}/hook`,
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitFor(
    () => Promise.resolve(stand.deliveries.has(r.body.id) ? true : undefined),
    "the quiet org's generation and its event",
    60_000,
  );
  const g = await call(server.url, "GET", `/v1/video/generations/${r.body.id}`, { key });
  assert.equal(g.body.status, "completed");
  return Date.now() - t0;
}

Deno.test("one org's flood of slow jobs does not hold up another org's one-second generation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-fair-" });
  await makeTinyMp4(`${dir}/v.mp4`);
  const stand = falStandIn(new Uint8Array(await Deno.readFile(`${dir}/v.mp4`)));
  const server = await startTestServer(
    {
      FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
      FAL_QUEUE_URL: `${stand.base()}/fal`,
      RATE_LIMIT_PER_MINUTE: "1000",
    },
    {},
    { background: true },
  );
  try {
    const flood = await fundedOrg(server.services, 1_000_000, "Flood");
    const quiet = await fundedOrg(server.services, 1_000_000, "Quiet");
    const unloaded = await localGenerationMs(server, quiet.key, stand);

    // The flood: generations that finish at once but whose events go to a receiver that takes
    // 10 s per delivery, and twice as many tarpit generations as there are slots.
    const submitFlood = async (i: number, image: boolean) => {
      const r = await call(server.url, "POST", "/v1/video/generations", {
        key: flood.key,
        body: {
          model: "kwaivgi/kling-v2.5-turbo-pro",
          prompt: `flood ${i}`,
          ...(image ? { image_url: `${stand.base()}/tarpit.png` } : {}),
          webhook_url: `${stand.base()}/slow-hook`,
        },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    for (let i = 0; i < 8; i++) await submitFlood(i, false);
    await waitFor(
      () => Promise.resolve(stand.slowHooks() >= 4 ? true : undefined),
      "the slow deliveries to hold every webhook slot",
    );
    for (let i = 0; i < 8; i++) await submitFlood(i, true);
    await waitFor(
      () => Promise.resolve(stand.tarpitted() >= 4 ? true : undefined),
      "the tarpit to hold every generation slot",
    );
    const loaded = await localGenerationMs(server, quiet.key, stand);
    assert.ok(
      loaded <= unloaded + 3_000,
      `the quiet org waited: ${loaded} ms behind the flood vs ${unloaded} ms alone`,
    );
  } finally {
    await stand.close(); // lets the held image fetches end, so the workers finish
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
