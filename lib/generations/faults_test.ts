/**
 * Riding out provider faults (docs/faults.md): transient refusals are retried with backoff on the
 * same route, hung calls time out and free their worker slot, a submit whose lease lapsed is taken
 * over and the orphaned upstream job cancelled, and a failing route's breaker opens and closes.
 * The fal adapter runs for real against a local fal stand-in.
 */
import assert from "node:assert/strict";
import { getGeneration } from "../db/generations.ts";
import { getBalance, verifyLedger } from "../db/ledger.ts";
import { createKvJobQueue } from "../jobs.ts";
import { falProvider } from "../providers/fal.ts";
import { classifyFault, providerTimeouts, retryDelayMs } from "../providers/faults.ts";
import { parseEnv } from "../config.ts";
import { ProviderError } from "../providers/types.ts";
import { startFalStandin } from "../../tests/support/fal_standin.ts";
import {
  BREAKER_MIN_SAMPLES,
  BREAKER_OPEN_MS,
  recordRouteOutcome,
  routeOpenUntil,
  routeStatus,
} from "./breaker.ts";
import { parseGenerationBody } from "./schema.ts";
import { createGeneration } from "./service.ts";
import {
  fundedOrg,
  manualTimer,
  multiRouteModel,
  scriptedAdapter,
  submitWhenDue,
  testClock,
  testDeps,
  testModel,
  waitForTerminal,
} from "../../tests/support/generations.ts";
import { generationJobHandlers, pollGeneration, submitGeneration } from "./workers.ts";

/** A one-route model on a real fal endpoint (the adapter builds each endpoint's own input). */
function falModel() {
  const model = testModel("t/one", "fal", 7);
  model.routes[0].upstreamModel = "fal-ai/bytedance/seedance/v1/lite/text-to-video";
  return model;
}

/** The real fal adapter, polling often so tests stay fast. */
const fal = { ...falProvider, pollIntervalMs: 20 };

/** An org holding 20 cents and one t/one generation of it, created at `now`. */
async function tOneGeneration(
  kv: Deno.Kv,
  deps: Parameters<typeof createGeneration>[0],
  now: number,
) {
  const org = await fundedOrg(kv, 20, now);
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  return { org, id };
}

Deno.test("the fault table: 429/5xx/resets are transient, 400/401/422 permanent, 402 reroutes on Replicate", () => {
  const e = (status?: number, retryable = true) => new ProviderError("x", retryable, status);
  for (const s of [429, 500, 502, 503, 504]) assert.equal(classifyFault("fal", e(s)), "transient");
  assert.equal(classifyFault("fal", e(undefined)), "transient"); // connection reset, timeout
  for (const s of [400, 401, 422]) assert.equal(classifyFault("runway", e(s, false)), "permanent");
  assert.equal(classifyFault("replicate", e(402, false)), "reroute");
  assert.equal(classifyFault("gemini", new Error("bug")), "permanent");
  // Backoff doubles, with jitter between half and all of the step, and honours Retry-After.
  assert.equal(retryDelayMs(0, undefined, () => 0), 500);
  assert.equal(retryDelayMs(3, undefined, () => 1), 8000);
  assert.equal(retryDelayMs(0, 2000, () => 1), 2000);
});

Deno.test("timeouts come from config: a provider's own override, else the common setting", () => {
  const env = parseEnv({ PROVIDER_TIMEOUT_MS: "45000", FAL_TIMEOUT_MS: "5000" });
  assert.deepEqual(providerTimeouts("fal", env), { connectMs: 10_000, totalMs: 5000 });
  assert.deepEqual(providerTimeouts("luma", env), { connectMs: 10_000, totalMs: 45_000 });
  assert.throws(() => parseEnv({ FAL_CONNECT_TIMEOUT_MS: "soon" }), /FAL_CONNECT_TIMEOUT_MS/);
});

Deno.test("a single-route model whose provider answers 503 twice then accepts completes, charged once", async () => {
  await using standin = await startFalStandin({
    submit: (n) => n < 2 ? { status: 503, body: { detail: "Service Unavailable" } } : null,
  });
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const clock = testClock(Date.now());
  const deps = testDeps(kv, dir, {
    now: clock.now,
    adapters: { fal },
    providerDeps: { fetch, env: standin.env, workDir: dir },
    models: [falModel()],
  });
  const { org, id } = await tOneGeneration(kv, deps, clock.now());
  assert.equal(await submitWhenDue(deps, clock, id), 3);
  assert.equal(standin.counts.submit, 3);
  clock.advance(1000);
  await pollGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "completed", g.error_message ?? "");
  assert.deepEqual(g.attempts.map((a) => a.error === null), [false, false, true]);
  assert.match(g.attempts[0].error!, /answered 503/);
  assert.equal(await getBalance(kv, org.id), 13);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("429 with Retry-After: 2 holds the retry at least 2 s, however small the backoff", async () => {
  await using standin = await startFalStandin({
    submit: (n) => n === 0 ? { status: 429, headers: { "retry-after": "2" } } : null,
  });
  const kv = await Deno.openKv(":memory:");
  const clock = testClock(Date.now());
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    random: () => 0, // the smallest backoff: 500 ms
    adapters: { fal },
    providerDeps: { fetch, env: standin.env, workDir: "/x" },
    models: [falModel()],
  });
  const { org, id } = await tOneGeneration(kv, deps, clock.now());
  const t0 = clock.now();
  await submitGeneration(deps, id);
  let g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "pending");
  assert.ok(g.next_check_at! - t0 >= 2000, `retry after ${g.next_check_at! - t0} ms`);
  clock.set(t0 + 1400); // a delivery before Retry-After has passed sends nothing
  await submitGeneration(deps, id);
  assert.equal(standin.counts.submit, 1);
  clock.set(g.next_check_at!);
  await submitGeneration(deps, id);
  assert.equal(standin.counts.submit, 2);
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "processing");
  kv.close();
});

Deno.test("a provider that never answers is timed out and the worker slot freed; a hung poll is retried", async () => {
  await using standin = await startFalStandin({
    submit: (n) => n === 0 ? "hang" : null,
    status: (n) => n === 0 ? "hang" : null,
  });
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const env = { ...standin.env, PROVIDER_CONNECT_TIMEOUT_MS: 300, FAL_TIMEOUT_MS: 2000 };
  const deps = testDeps(kv, dir, {
    adapters: { fal },
    random: () => 0,
    providerDeps: { fetch, env, workDir: dir },
    models: [falModel()],
  });
  const org = await fundedOrg(kv, 20);
  // One worker slot: without a timeout the hung submit would hold it and nothing else would run.
  const listening = createKvJobQueue(kv, () => {}, { concurrency: 1 }).listen(
    generationJobHandlers(deps),
  );
  try {
    const body = (prompt: string) => parseGenerationBody({ model: "t/one", prompt });
    const a = await createGeneration(deps, org.id, body("first"));
    const b = await createGeneration(deps, org.id, body("second"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("still hanging after 20 s")), 20_000);
    });
    const [ga, gb] = await Promise.race([
      Promise.all([waitForTerminal(kv, a.id), waitForTerminal(kv, b.id)]),
      bound,
    ]).finally(() => clearTimeout(timer));
    assert.equal(ga.status, "completed", ga.error_message ?? "");
    assert.equal(gb.status, "completed", gb.error_message ?? "");
    assert.match(ga.attempts[0].error ?? "", /no response after 300 ms/);
    assert.equal(standin.counts.status >= 2, true); // the hung poll was asked again
  } finally {
    kv.close();
    await listening;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a submit whose lease lapsed mid-call is taken over; the late original is a counted, cancelled duplicate", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const timer = manualTimer(); // no renewals: this process looks dead
  const gate = Promise.withResolvers<void>();
  const scripted = scriptedAdapter("fal", {});
  const submit = scripted.adapter.submit;
  let first = true;
  scripted.adapter.submit = async (m, req, d) => {
    const r = await submit(m, req, d);
    if (first) {
      first = false;
      await gate.promise; // the first answer arrives only after the takeover
    }
    return r;
  };
  const logs: string[] = [];
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    every: timer.every,
    adapters: { fal: scripted.adapter },
    models: [falModel()],
    log: (m) => logs.push(m),
  });
  const { org, id } = await tOneGeneration(kv, deps, clock.now());
  const original = submitGeneration(deps, id);
  await new Promise((r) => setTimeout(r, 0)); // let the first submit reach the adapter
  while (scripted.calls.submit === 0) await new Promise((r) => setTimeout(r, 1));
  let g = await getGeneration(kv, org.id, id);
  clock.set(g.next_check_at! + 1); // the lease lapses: nothing renewed it
  await submitGeneration(deps, id); // the takeover
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "processing");
  assert.equal(g.provider_job_id, "job_2");
  assert.match(g.attempts[0].error ?? "", /took the submit over/);
  gate.resolve();
  await original;
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.provider_job_id, "job_2"); // the late answer changed nothing
  assert.equal(scripted.calls.cancel, 1); // and its upstream job was cancelled
  const route = await routeStatus(kv, "t/one", "fal", clock.now());
  assert.equal(route.duplicate_jobs, 1);
  assert.equal(route.duplicate_jobs_cancelled, 1);
  assert.equal(route.interrupted_submits, 1); // counted when the takeover began
  assert.ok(logs.some((l) => /duplicate upstream job job_1/.test(l)), logs.join("\n"));
  assert.equal(await getBalance(kv, org.id), 13); // the customer paid once
  kv.close();
});

Deno.test("the breaker opens after mostly failing submits, sends work to the other route, and closes", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  for (let i = 0; i < BREAKER_MIN_SAMPLES; i++) {
    assert.equal(await routeOpenUntil(kv, "t/m", "fal", clock.now()), null);
    await recordRouteOutcome(kv, "t/m", "fal", false, clock.now());
  }
  assert.equal(await routeOpenUntil(kv, "t/m", "fal", clock.now()), clock.now() + BREAKER_OPEN_MS);
  assert.equal((await routeStatus(kv, "t/m", "fal", clock.now())).breaker, "open");

  // While open, a generation preferring fal goes to luma without a call to fal.
  const falRoute = scriptedAdapter("fal", {});
  const luma = scriptedAdapter("luma", {
    poll: [{ status: "succeeded", output: { url: "https://cdn.example/v.mp4" } }],
  });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: falRoute.adapter, luma: luma.adapter },
    models: [multiRouteModel("t/m", [["fal", 3], ["luma", 4]])],
    storage: { storeFromFile: () => Promise.resolve(), storeFromUrl: () => Promise.resolve() },
  });
  const org = await fundedOrg(kv, 20, clock.now());
  const body = parseGenerationBody({ model: "t/m", prompt: "p", provider: { order: ["fal"] } });
  const { id } = await createGeneration(deps, org.id, body);
  await submitWhenDue(deps, clock, id, 3);
  let g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "processing");
  assert.deepEqual([falRoute.calls.submit, luma.calls.submit], [0, 1]);

  // After the pause the route half-opens; one success closes it.
  clock.advance(BREAKER_OPEN_MS);
  assert.equal((await routeStatus(kv, "t/m", "fal", clock.now())).breaker, "half_open");
  const second = await createGeneration(deps, org.id, body);
  await submitWhenDue(deps, clock, second.id, 3);
  g = await getGeneration(kv, org.id, second.id);
  assert.equal(g.attempts[0].provider, "fal");
  assert.equal(falRoute.calls.submit, 1);
  assert.equal((await routeStatus(kv, "t/m", "fal", clock.now())).breaker, "closed");
  kv.close();
});
