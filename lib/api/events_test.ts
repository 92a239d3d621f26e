import assert from "node:assert/strict";
import { generationKey, type GenerationRecord } from "../db/generations.ts";
import { testConfig } from "../config.ts";
import { generationEvents } from "./events.ts";

const T0 = 1_700_000_000_000;

function pending(id: string): GenerationRecord {
  return {
    id,
    org_id: "org_1",
    api_key_id: null,
    status: "pending",
    model: "t/one",
    options: { prompt: "p", duration: 1, resolution: "360p", aspect_ratio: "16:9" },
    candidates: [{ model: "t/one", provider: "local", upstream_model: "x", price_cents: 3 }],
    attempt: 0,
    attempts: [],
    charged_cents: 3,
    cost_cents: null,
    refunded_cents: 0,
    provider_job_id: null,
    submit_claimed_at: null,
    tick: 0,
    poll_count: 0,
    next_check_at: T0,
    deadline_at: T0 + 60_000,
    output: null,
    latency_ms: null,
    error_message: null,
    application_name: null,
    metadata: null,
    webhook_url: null,
    idempotency_key: null,
    created_at: T0,
    updated_at: T0,
    completed_at: null,
  };
}

Deno.test("events: without a working watch, the re-read carries every change to the end", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const id = "gen_01JAAAAAAAAAAAAAAAAAAAAAAA";
    const g = pending(id);
    await kv.set(generationKey(id), g);
    await kv.set(["org_generations", "org_1", id], id);
    // A KV whose watch is unavailable (as over some KV Connect setups): only the poll remains.
    const noWatch = new Proxy(kv, {
      get(target, prop) {
        if (prop === "watch") {
          return () => {
            throw new Error("watch unavailable");
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const services = { kv: noWatch, config: testConfig(), now: () => T0 };
    const abort = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (
        const e of generationEvents(services, "org_1", id, {
          signal: abort.signal,
          pollMs: 20,
        })
      ) {
        seen.push(e.generation.status);
        if (e.generation.status === "pending") {
          await kv.set(generationKey(id), { ...g, status: "failed", cost_cents: 0 });
        }
      }
    })();
    const timeout = setTimeout(() => abort.abort(), 10_000);
    await reading;
    clearTimeout(timeout);
    assert.deepEqual(seen, ["pending", "failed"]);
  } finally {
    kv.close();
  }
});
