import assert from "node:assert/strict";
import { getGeneration } from "../db/generations.ts";
import { getBalance, verifyLedger } from "../db/ledger.ts";
import { createGeneration } from "./service.ts";
import { parseGenerationBody } from "./schema.ts";
import { DEFAULT_LEASE_MS, pollDelayMs, pollGeneration, submitGeneration } from "./workers.ts";
import { SWEEP_GRACE_MS, sweepGenerations, type SweepResult } from "./sweep.ts";
import type { GenerationDeps } from "./deps.ts";
import {
  fundedOrg,
  manualTimer,
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { ProviderError } from "../providers/types.ts";

Deno.test("poll delay backs off, is capped, and honours Retry-After", () => {
  const { adapter } = scriptedAdapter("fal", {}, 1000);
  assert.equal(pollDelayMs(adapter, 0), 1000);
  assert.equal(pollDelayMs(adapter, 1), 1250);
  assert.equal(pollDelayMs(adapter, 100), 30_000);
  assert.equal(pollDelayMs(adapter, 0, 7000), 7000);
});

Deno.test("running polls reschedule; an early duplicate poll is dropped; network faults wait", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter, calls } = scriptedAdapter("fal", {
    poll: [{ status: "running", retryAfterMs: 5000 }, { status: "running" }],
  }, 1000);
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 1)],
  });
  const org = await fundedOrg(kv, 10, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  assert.equal(calls.submit, 1);
  let g = await getGeneration(kv, org.id, id);
  assert.equal(g.next_check_at, clock.now() + 1000);
  clock.advance(1000);
  await pollGeneration(deps, id);
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.next_check_at, clock.now() + 5000); // Retry-After wins over the interval
  await pollGeneration(deps, id); // a duplicate arriving early: no upstream call
  assert.equal(calls.poll, 1);
  // A network fault while polling is not a failure: the generation waits for the next poll.
  adapter.poll = () => Promise.reject(new ProviderError("ECONNRESET", true));
  clock.advance(5000);
  await pollGeneration(deps, id);
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "processing");
  assert.equal(g.poll_count, 2);
  kv.close();
});

Deno.test("a retryable storage failure waits for the next poll; a permanent one fails and refunds", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter } = scriptedAdapter("fal", {
    poll: [{ status: "succeeded", output: { url: "https://cdn.example/v.mp4" } }],
  });
  const storeErrors = [new ProviderError("download timed out", true), null];
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 4)],
    storage: {
      storeFromFile: () => Promise.reject(new Error("unused")),
      storeFromUrl: () => {
        const err = storeErrors.shift();
        return err ? Promise.reject(err) : Promise.resolve({ bytes: 123 });
      },
    },
  });
  const org = await fundedOrg(kv, 10, clock.now());
  const body = parseGenerationBody({ model: "t/one", prompt: "p" });
  const { id } = await createGeneration(deps, org.id, body);
  await submitGeneration(deps, id);
  clock.advance(60_000);
  await pollGeneration(deps, id);
  assert.equal((await getGeneration(kv, org.id, id)).status, "processing");
  clock.advance(60_000);
  await pollGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "completed");
  assert.deepEqual(g.output, { stored: true, bytes: 123 });

  storeErrors.push(new ProviderError("not a video container", false));
  const second = await createGeneration(deps, org.id, body);
  await submitGeneration(deps, second.id);
  clock.advance(60_000);
  await pollGeneration(deps, second.id);
  const failed = await getGeneration(kv, org.id, second.id);
  assert.equal(failed.status, "failed");
  assert.match(failed.error_message!, /could not be stored \(not a video container\)/);
  assert.equal(await getBalance(kv, org.id), 6);
  kv.close();
});

/**
 * A finished video whose download outlasts the sweep's grace: the minute cron fires during the
 * download. `renew` says whether this process still renews its lease (alive) or not (stalled).
 */
async function slowDownload(downloadMs: number, renew: boolean) {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const timer = manualTimer();
  const { adapter, calls } = scriptedAdapter("fal", {
    poll: [{ status: "succeeded", output: { url: "https://cdn.example/v.mp4" } }],
  });
  const sweeps: SweepResult[] = [];
  let downloads = 0;
  const deps: GenerationDeps = testDeps(kv, "/x", {
    now: clock.now,
    every: timer.every,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 50)],
    storage: {
      storeFromFile: () => Promise.reject(new Error("unused")),
      async storeFromUrl() {
        downloads++;
        // The download runs in steps of a third of the lease; the lease is renewed after each.
        for (let at = 0; at < downloadMs; at += DEFAULT_LEASE_MS / 3) {
          clock.advance(DEFAULT_LEASE_MS / 3);
          if (renew) await timer.tick();
        }
        sweeps.push(await sweepGenerations(deps, clock.now()));
        return { bytes: 10 };
      },
    },
  });
  const org = await fundedOrg(kv, 1000, clock.now());
  const body = parseGenerationBody({ model: "t/one", prompt: "p" });
  const { id } = await createGeneration(deps, org.id, body);
  await submitGeneration(deps, id);
  // Deliver polls (the chain's, then any the sweep added) until the generation stops processing.
  for (let i = 0; i < 5; i++) {
    const g = await getGeneration(kv, org.id, id);
    if (g.status !== "processing") break;
    clock.set(Math.max(clock.now(), g.next_check_at!));
    await pollGeneration(deps, id);
  }
  const g = await getGeneration(kv, org.id, id);
  const ledger = await verifyLedger(kv, org.id);
  kv.close();
  return { g, downloads, sweeps, polls: calls.poll, ledger, renewing: timer.running };
}

Deno.test("a 3-minute download completes once: its renewed lease keeps the sweep away", async () => {
  const r = await slowDownload(180_000, true);
  assert.equal(r.g.status, "completed", r.g.error_message ?? "");
  assert.equal(r.downloads, 1);
  assert.equal(r.polls, 1);
  assert.deepEqual(r.sweeps, [{ requeued: [], expired: [] }]);
  assert.equal(r.g.cost_cents, 50);
  assert.equal(r.renewing, 0); // the renewals stopped with the download
  assert.ok(r.ledger.ok);
});

Deno.test("a download whose lease lapsed still completes though the sweep requeued a poll", async () => {
  const r = await slowDownload(DEFAULT_LEASE_MS + SWEEP_GRACE_MS + 1000, false);
  assert.equal(r.sweeps[0].requeued.length, 1); // the sweep stepped in during the download
  assert.equal(r.g.status, "completed", r.g.error_message ?? "");
  assert.equal(r.downloads, 1); // the requeued poll found the generation completed
  assert.equal(r.g.cost_cents, 50);
  assert.ok(r.ledger.ok);
});

Deno.test("a poll past the deadline fails, refunds and stops the upstream job (error.code timeout)", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter, calls } = scriptedAdapter("fal", {});
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 5)],
    deadlineMs: 60_000,
  });
  const org = await fundedOrg(kv, 10, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  clock.advance(61_000);
  await pollGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.equal(g.error_code, "timeout");
  assert.equal(calls.poll, 0); // the deadline is decided without asking
  assert.equal(calls.cancel, 1); // and the job still running upstream is stopped
  assert.equal(await getBalance(kv, org.id), 10);
  kv.close();
});

Deno.test("a provider's reported progress is kept on the record at each poll (shown as progress)", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter } = scriptedAdapter("fal", {
    poll: [{ status: "running", progress: 0.25 }, { status: "running", progress: 0.6 }],
  });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 4)],
  });
  const org = await fundedOrg(kv, 10, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  clock.advance(60_000);
  await pollGeneration(deps, id);
  assert.equal((await getGeneration(kv, org.id, id)).progress, 25);
  clock.advance(60_000);
  await pollGeneration(deps, id);
  assert.equal((await getGeneration(kv, org.id, id)).progress, 60);
  kv.close();
});
