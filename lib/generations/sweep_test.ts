import { openKv } from "../db/kv.ts";
import assert from "node:assert/strict";
import { kvFailingOnce } from "../../tests/support/kv.ts";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { generationKey, type GenerationRecord, getGeneration, listDue } from "../db/generations.ts";
import { createKvJobQueue, enqueueMinuteJob, type Job } from "../jobs.ts";
import { localProvider } from "../providers/local.ts";
import { createGeneration } from "./service.ts";
import { parseGenerationBody } from "./schema.ts";
import {
  generationSweep,
  STARTUP_SWEEP_ID,
  SWEEP_GRACE_MS,
  SWEEP_JOB,
  SWEEP_LEASE_MS,
  sweepGenerations,
} from "./sweep.ts";
import { generationJobHandlers, pollGeneration, SUBMIT_JOB, submitGeneration } from "./workers.ts";
import {
  fundedOrg,
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
  waitForTerminal,
} from "../../tests/support/generations.ts";

const preview = parseGenerationBody({
  model: "local/preview",
  prompt: "crash test",
  duration: 1,
  resolution: "360p",
});

Deno.test("a lost submit message is picked up by the sweep and the generation completes", async () => {
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const clock = testClock(Date.now());
  const deps = testDeps(kv, dir, { now: clock.now, adapters: { local: localProvider } });
  const org = await fundedOrg(kv, 10);
  const real = generationJobHandlers(deps);
  const { promise: lost, resolve: markLost } = Promise.withResolvers<void>();
  let dropped = 0;
  // The first submit is acknowledged without being run: the message is lost.
  const listening = createKvJobQueue(kv).listen({
    ...real,
    [SUBMIT_JOB]: (job: Job) =>
      dropped++ === 0 ? (markLost(), Promise.resolve()) : real[SUBMIT_JOB](job),
  });
  try {
    const { id } = await createGeneration(deps, org.id, preview);
    await lost;
    assert.equal((await getGeneration(kv, org.id, id)).status, "pending");
    assert.deepEqual(await sweepGenerations(deps, clock.now()), { requeued: [], expired: [] });
    clock.advance(SWEEP_GRACE_MS + 1);
    const [s1, s2] = await Promise.all([
      sweepGenerations(deps, clock.now()),
      sweepGenerations(deps, clock.now()),
    ]);
    assert.deepEqual([...s1.requeued, ...s2.requeued], [id]); // duplicate firings collapse
    const g = await waitForTerminal(kv, id);
    assert.equal(g.status, "completed", g.error_message ?? "");
    assert.equal(await getBalance(kv, org.id), 9);
    assert.deepEqual(await listDue(kv, clock.now() + 3600_000), []);
  } finally {
    kv.close();
    await listening;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("closing and reopening the KV file mid-flight loses nothing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite`;
  let kv = await openKv(path);
  try {
    const org = await fundedOrg(kv, 10);
    const { id } = await createGeneration(
      testDeps(kv, dir, { adapters: { local: localProvider } }),
      org.id,
      preview,
    );
    kv.close(); // the process dies before any worker ran
    kv = await openKv(path);
    const deps = testDeps(kv, dir, { adapters: { local: localProvider } });
    const listening = createKvJobQueue(kv).listen(generationJobHandlers(deps));
    try {
      const g = await waitForTerminal(kv, id);
      assert.equal(g.status, "completed", g.error_message ?? "");
      assert.deepEqual(await verifyLedger(kv, org.id), { balance: 9, sum: 9, ok: true });
    } finally {
      kv.close();
      await listening;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deadline expiry via the sweep fails and refunds exactly once", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter } = scriptedAdapter("fal", { poll: [{ status: "running" }] });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/slow", "fal", 25)],
    deadlineMs: 10 * 60_000,
  });
  const org = await fundedOrg(kv, 100, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/slow", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  assert.equal(await getBalance(kv, org.id), 75);
  clock.advance(11 * 60_000); // the poll chain was lost; past the deadline
  const runs = await Promise.all([1, 2, 3].map(() => sweepGenerations(deps, clock.now())));
  assert.deepEqual(runs.flatMap((r) => r.expired), [id]);
  await sweepGenerations(deps, clock.now() + 60_000);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.match(g.error_message!, /timed out/);
  assert.equal(await getBalance(kv, org.id), 100);
  const refunds = (await listLedger(kv, org.id)).data.filter((e) => e.kind === "refund");
  assert.equal(refunds.length, 1);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});

Deno.test("the poll worker and the sweep fail a generation past its deadline in the same words", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter } = scriptedAdapter("fal", { poll: [{ status: "running" }] });
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/slow", "fal", 25)],
    deadlineMs: 10 * 60_000,
  });
  const org = await fundedOrg(kv, 100, clock.now());
  const body = parseGenerationBody({ model: "t/slow", prompt: "p" });
  const byPoll = await createGeneration(deps, org.id, body);
  const bySweep = await createGeneration(deps, org.id, body);
  await submitGeneration(deps, byPoll.id);
  await submitGeneration(deps, bySweep.id);
  clock.advance(11 * 60_000);
  await pollGeneration(deps, byPoll.id);
  assert.deepEqual((await sweepGenerations(deps, clock.now())).expired, [bySweep.id]);
  const messages = await Promise.all(
    [byPoll.id, bySweep.id].map(async (id) => (await getGeneration(kv, org.id, id)).error_message),
  );
  const expected = "Generation timed out: no result from t/slow within 10 minutes";
  assert.deepEqual(messages, [expected, expected]);
  assert.equal(await getBalance(kv, org.id), 100);
  kv.close();
});

/** A generation whose submit message was lost, and the deps to sweep it with. */
async function lostSubmit(kvOver?: (kv: Deno.Kv) => Deno.Kv) {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const { adapter } = scriptedAdapter("fal", {
    poll: [{ status: "succeeded", output: { url: "https://cdn.example/v.mp4" } }],
  });
  const deps = testDeps(kvOver ? kvOver(kv) : kv, "/x", {
    now: clock.now,
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 5)],
    storage: {
      storeFromFile: () => Promise.reject(new Error("unused")),
      storeFromUrl: () => Promise.resolve({ bytes: 1 }),
    },
  });
  const org = await fundedOrg(kv, 100, clock.now());
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  return { kv, clock, deps, org, id };
}

Deno.test("duplicate sweep jobs collapse on the lease; an overdue generation is requeued at most once a minute", async () => {
  const { kv, clock, deps, id } = await lostSubmit();
  try {
    clock.advance(SWEEP_GRACE_MS + 1);
    const runs = await Promise.all([1, 2, 3].map(() => generationSweep.run(deps)));
    assert.deepEqual(runs.filter((r) => r !== null), [{ requeued: [id], expired: [] }]);
    clock.advance(SWEEP_LEASE_MS - 1);
    assert.equal(await generationSweep.run(deps), null); // still held: the same minute's duplicate
    clock.advance(1);
    // The lease is free and the requeue (lost again) is overdue past the grace: requeued again,
    // once for this sweep however many firings.
    assert.ok(SWEEP_LEASE_MS > SWEEP_GRACE_MS);
    const again = await Promise.all([1, 2].map(() => generationSweep.run(deps)));
    assert.deepEqual(again.filter((r) => r !== null), [{ requeued: [id], expired: [] }]);
  } finally {
    kv.close();
  }
});

Deno.test("the cron's sweep job runs through the real queue and the lost generation completes", async () => {
  const { kv, clock, deps, org, id } = await lostSubmit();
  const handlers = generationJobHandlers(deps);
  const { promise: lost, resolve: markLost } = Promise.withResolvers<void>();
  let submits = 0;
  // The generation's own submit message is acknowledged without being run: it is lost.
  const listening = createKvJobQueue(kv).listen({
    ...handlers,
    ...generationSweep.handlers(deps),
    [SUBMIT_JOB]: (job: Job) =>
      submits++ === 0 ? (markLost(), Promise.resolve()) : handlers[SUBMIT_JOB](job),
  });
  try {
    await lost;
    clock.advance(SWEEP_GRACE_MS + 1);
    // Two firings of the same minute (two processes): one sweep, one requeued submit.
    await Promise.all([
      enqueueMinuteJob(kv, SWEEP_JOB, clock.now()),
      enqueueMinuteJob(kv, SWEEP_JOB, clock.now()),
    ]);
    const g = await waitForTerminal(kv, id);
    assert.equal(g.status, "completed", g.error_message ?? "");
    assert.equal(submits, 2);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 95, sum: 95, ok: true });
  } finally {
    kv.close();
    await listening;
  }
});

Deno.test("a sweep that fails gives the lease back so the job's redelivery sweeps", async () => {
  const { kv, clock, deps, id } = await lostSubmit((kv) =>
    kvFailingOnce(kv, "list", "KV unavailable")
  );
  try {
    clock.advance(SWEEP_GRACE_MS + 1);
    await assert.rejects(generationSweep.run(deps), /KV unavailable/);
    assert.deepEqual(await generationSweep.run(deps), { requeued: [id], expired: [] });
  } finally {
    kv.close();
  }
});

Deno.test("the start-up sweep runs though a crashed process's sweep lease still holds", async () => {
  const { kv, clock, deps, id } = await lostSubmit();
  try {
    assert.notEqual(await generationSweep.run(deps), null); // the old process's sweep: lease held 50 s
    clock.advance(SWEEP_GRACE_MS + 1);
    assert.equal(await generationSweep.run(deps), null); // a cron firing now would do nothing
    await generationSweep.handlers(deps)[SWEEP_JOB]({ type: SWEEP_JOB, id: STARTUP_SWEEP_ID });
    const g = await kv.get<GenerationRecord>(generationKey(id));
    assert.equal(g.value?.next_check_at, clock.now()); // requeued by the start-up sweep
  } finally {
    kv.close();
  }
});
