import assert from "node:assert/strict";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { getGeneration } from "../db/generations.ts";
import { getModelMetrics } from "../db/usage.ts";
import { ProviderError } from "../providers/types.ts";
import { parseGenerationBody } from "./schema.ts";
import { createGeneration, planCandidates } from "./service.ts";
import { pollGeneration, submitGeneration } from "./workers.ts";
import { MAX_SUBMIT_RETRIES } from "../providers/faults.ts";
import {
  fundedOrg,
  multiRouteModel,
  retryable,
  scriptedAdapter,
  submitWhenDue,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";

const done = { status: "succeeded" as const, output: { url: "https://cdn.example/v.mp4" } };
const noStore = {
  storeFromFile: () => Promise.reject(new Error("unused")),
  storeFromUrl: () => Promise.resolve({ bytes: 1234 }),
};

Deno.test("candidates: each model's routes (cheapest first) before the next model; a pinned provider keeps one", () => {
  const ok = () => scriptedAdapter("fal", {}).adapter;
  const deps = testDeps({} as Deno.Kv, "/x", {
    adapters: { fal: ok(), replicate: ok(), luma: ok() },
    models: [
      multiRouteModel("t/a", [["fal", 10], ["replicate", 8], ["runway", 1]]),
      testModel("t/b", "luma", 5),
    ],
  });
  const plan = (extra: Record<string, unknown>) =>
    planCandidates(deps, parseGenerationBody({ models: ["t/a", "t/b"], prompt: "p", ...extra }))
      .candidates.map((c) => `${c.model}@${c.provider}:${c.price_cents}`);
  // runway is not configured, so its route is not a candidate.
  assert.deepEqual(plan({}), ["t/a@replicate:8", "t/a@fal:10", "t/b@luma:5"]);
  assert.deepEqual(plan({ provider: { order: ["fal"] } }), [
    "t/a@fal:10",
    "t/a@replicate:8",
    "t/b@luma:5",
  ]);
  assert.deepEqual(plan({ provider: "fal" }), ["t/a@fal:10"]);
  assert.deepEqual(plan({ provider: "luma" }), ["t/b@luma:5"]);
});

Deno.test("route failover: the first route's submit 503 on every retry -> the second route completes and settles to its price", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const down = retryable("Service temporarily unavailable");
  const fal = scriptedAdapter("fal", { submit: [down, down, down, down] });
  const gemini = scriptedAdapter("gemini", { poll: [done] });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { gemini: gemini.adapter, fal: fal.adapter },
    models: [multiRouteModel("t/veo", [["gemini", 6], ["fal", 9]])],
    storage: noStore,
  });
  const org = await fundedOrg(kv, 50, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    // The client prefers fal (the dearer route); gemini is the same model's other route.
    parseGenerationBody({ model: "t/veo", prompt: "p", provider: { order: ["fal"] } }),
  );
  assert.equal(await getBalance(kv, org.id), 41); // charged the dearest candidate up front
  // fal: the first try and MAX_SUBMIT_RETRIES retries with backoff, then the next route.
  await submitWhenDue(deps, clock, id, 1 + MAX_SUBMIT_RETRIES);
  let g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "pending"); // moved on to the next route of the same model
  assert.equal(g.attempt, 1);
  assert.equal(g.model, "t/veo");
  await submitWhenDue(deps, clock, id, 1);
  clock.advance(1000);
  await pollGeneration(deps, id);
  g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "completed", g.error_message ?? "");
  assert.equal(g.cost_cents, 6); // what ran
  assert.deepEqual(g.attempts.map((a) => [a.provider, a.error]), [
    ...Array(4).fill(["fal", "t/veo via fal: Service temporarily unavailable"]),
    ["gemini", null],
  ]);
  assert.deepEqual([fal.calls.submit, gemini.calls.submit], [4, 1]);
  // The difference came back in the completing commit.
  assert.equal(await getBalance(kv, org.id), 44);
  assert.deepEqual(await verifyLedger(kv, org.id), { balance: 44, sum: 44, ok: true });
  // One request of the model, completed: the failed route is not a failed request.
  const m = await getModelMetrics(kv, "t/veo", clock.now());
  assert.deepEqual([m.totalRequests, m.completedRequests, m.failedRequests], [1, 1, 0]);
  kv.close();
});

Deno.test("route failover: moderation of the first route's output tries the next route; a final non-retryable failure refunds", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const luma = scriptedAdapter("luma", {
    poll: [{ status: "failed", message: "output moderated", retryable: true }],
  });
  const fal = scriptedAdapter("fal", {
    poll: [{ status: "failed", message: "bad duration", retryable: false }],
  });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { luma: luma.adapter, fal: fal.adapter },
    models: [multiRouteModel("t/m", [["luma", 3], ["fal", 4]])],
    storage: noStore,
  });
  const org = await fundedOrg(kv, 10, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/m", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  clock.advance(1000);
  await pollGeneration(deps, id);
  assert.equal((await getGeneration(kv, org.id, id)).status, "pending");
  await submitGeneration(deps, id);
  clock.advance(1000);
  await pollGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.equal(g.error_message, "t/m via fal: bad duration");
  assert.equal(g.attempts.length, 2);
  assert.equal(await getBalance(kv, org.id), 10);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});

Deno.test("a pinned provider does not fail over: 503 on every retry fails and refunds once", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const overloaded = new ProviderError("The model is overloaded", true, 503);
  const gemini = scriptedAdapter("gemini", { submit: Array(4).fill(overloaded) });
  const fal = scriptedAdapter("fal", { poll: [done] });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { gemini: gemini.adapter, fal: fal.adapter },
    models: [multiRouteModel("t/veo", [["gemini", 6], ["fal", 9]])],
    storage: noStore,
  });
  const org = await fundedOrg(kv, 50, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/veo", prompt: "p", provider: "gemini" }),
  );
  assert.equal(await getBalance(kv, org.id), 44); // only the pinned route is charged
  await submitWhenDue(deps, clock, id, 1 + MAX_SUBMIT_RETRIES);
  await submitGeneration(deps, id); // a duplicate delivery changes nothing
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.equal(g.error_message, "t/veo via gemini: The model is overloaded");
  assert.deepEqual([gemini.calls.submit, fal.calls.submit], [4, 0]);
  assert.equal(await getBalance(kv, org.id), 50);
  const ledger = (await listLedger(kv, org.id, { limit: 10 })).data.map((e) => e.kind);
  assert.deepEqual(ledger.sort(), ["charge", "refund", "topup"]);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});
