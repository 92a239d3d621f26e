import assert from "node:assert/strict";
import { createGeneration } from "../generations/service.ts";
import { completePlan, updateGeneration } from "../generations/transitions.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import {
  fundedOrg,
  scriptedAdapter,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { createEndpoint, listOwedEvents } from "../db/webhooks.ts";
import {
  enqueueGenerationEvent,
  notifyGeneration,
  SWEEP_GRACE_MS,
  sweepOwedEvents,
} from "./notify.ts";
import type { WebhookDeps } from "./notify.ts";

Deno.test("an event whose payload can never be stored fails once, in the log, and is not rescued again", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let now = Date.UTC(2026, 10, 27, 12);
    const { adapter } = scriptedAdapter("fal", {});
    const gen = testDeps(kv, "/unused", {
      allowPrivateUrls: true,
      adapters: { fal: adapter },
      models: [testModel("t/one", "fal", 7)],
      now: () => now,
      onTerminal: enqueueGenerationEvent,
    });
    const logged: string[] = [];
    const enqueued: string[] = [];
    const deps: WebhookDeps = {
      kv,
      jobs: {
        enqueue: (job) => (enqueued.push(job.id), Promise.resolve()),
        listen: () => Promise.reject(new Error("not used")),
      },
      now: () => now,
      publicUrl: "http://pv.test",
      secretKey: "k",
      allowPrivate: true,
      log: (message, err) => logged.push(`${message} ${err ?? ""}`),
    };
    const org = await fundedOrg(kv, 100, now);
    await createEndpoint(kv, org.id, { url: "http://127.0.0.1:9/hook" }, now);
    // Metadata the API now refuses (control characters escape to six each in JSON), as a record
    // stored before that check would hold it.
    const poison = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`k${i}`, "\u0001".repeat(512)]),
    );
    const input = {
      ...parseGenerationBody({ model: "t/one", prompt: "a kite" }),
      metadata: poison,
    };
    const { id } = await createGeneration(gen, org.id, input);
    await updateGeneration(gen, id, completePlan(() => true, now));

    assert.deepEqual(await notifyGeneration(deps, id), []);
    assert.equal(logged.filter((l) => l.includes(id)).length, 1, logged.join("\n"));
    // Recorded: neither a second run nor the sweep, much later, tries it again.
    assert.deepEqual(await notifyGeneration(deps, id), []);
    now += SWEEP_GRACE_MS * 10;
    assert.deepEqual(await sweepOwedEvents(deps, now), []);
    assert.deepEqual(await listOwedEvents(kv, now, 10), []);
    assert.deepEqual(enqueued, []);
    assert.equal(logged.length, 1);
  } finally {
    kv.close();
  }
});
