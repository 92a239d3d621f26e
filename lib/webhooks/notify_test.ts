import assert from "node:assert/strict";
import { kvFailingOnce } from "../../tests/support/kv.ts";
import { createKvJobQueue, enqueueMinuteJob, type Job, type JobQueue } from "../jobs.ts";
import { listJobs } from "../db/jobs.ts";
import { createGeneration, toApiGeneration } from "../generations/service.ts";
import { loadGeneration } from "../db/generations.ts";
import {
  cancelPlan,
  completePlan,
  failPlan,
  updateGeneration,
} from "../generations/transitions.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import {
  fundedOrg,
  scriptedAdapter,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import {
  addOwedEventMutations,
  claimDeliveryAttempt,
  createEndpoint,
  getDelivery,
  getDeliveryEntry,
  getOrCreateDefaultSecret,
  listDeliveries,
  listOwedEvents,
  setEndpointEnabled,
  type WebhookDelivery,
} from "../db/webhooks.ts";
import { verifyVideoSignature } from "../storage/mod.ts";
import { verifyWebhook } from "./sign.ts";
import { registerEndpoint } from "./manage.ts";
import { BadRequest } from "../errors.ts";
import { IN_FLIGHT_MS, RETRY_SCHEDULE_MS } from "./deliver.ts";
import {
  ATTEMPT_JOB,
  enqueueGenerationEvent,
  NOTIFY_JOB,
  notifyGeneration,
  REQUEUE_INTERVAL_MS,
  runDeliveryAttempt,
  SWEEP_GRACE_MS,
  SWEEP_JOB,
  SWEEP_LEASE_MS,
  sweepDueDeliveries,
  sweepOwedEvents,
  type WebhookDeps,
  webhookJobHandlers,
  webhookSweep,
} from "./notify.ts";

const SECRET_KEY = "notify-test-secret";
const HOUR_MS = 60 * 60 * 1000;

/** A queue that records what is enqueued, so a test can run the jobs itself with its clock. */
function recordingQueue(): JobQueue & { sent: { job: Job; delayMs?: number }[] } {
  const sent: { job: Job; delayMs?: number }[] = [];
  return {
    sent,
    enqueue(job, opts = {}) {
      sent.push({ job, delayMs: opts.delayMs });
      return Promise.resolve();
    },
    listen: () => Promise.reject(new Error("not used")),
  };
}

/** A real receiver on 127.0.0.1 answering the given statuses in turn (the last repeats). */
function receiver(statuses: number[] = [200]) {
  const received: { headers: Headers; body: string }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    received.push({ headers: req.headers, body: await req.text() });
    const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
    return new Response(status === 200 ? "ok" : "nope", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    close: () => server.shutdown(),
  };
}

async function setup(opts: { webhookUrl?: string } = {}) {
  const kv = await Deno.openKv(":memory:");
  let now = Date.UTC(2026, 10, 27, 12);
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const { adapter } = scriptedAdapter("fal", {});
  const gen = testDeps(kv, "/unused", {
    allowPrivateUrls: true, // receivers in these tests listen on 127.0.0.1, as in development
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 7)],
    now: clock.now,
    onTerminal: enqueueGenerationEvent,
  });
  const jobs = recordingQueue();
  const deps: WebhookDeps = {
    kv,
    jobs,
    now: clock.now,
    publicUrl: "http://pv.test",
    secretKey: SECRET_KEY,
    allowPrivate: true,
    random: () => 0.5, // no jitter: delays are exactly the schedule
    timeoutMs: 2000,
  };
  const org = await fundedOrg(kv, 100, now);
  const body = parseGenerationBody({
    model: "t/one",
    prompt: "a lighthouse",
    ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
  });
  const { id } = await createGeneration(gen, org.id, body);
  return { kv, clock, gen, deps, jobs, org, id };
}

/** The jobs waiting in KV (the runner's records), as a job would reach its handler. */
async function pendingJobs(kv: Deno.Kv): Promise<(Job & { enqueued_at: number })[]> {
  const { data } = await listJobs(kv, "pending", { limit: 100 });
  return data.map((r) => ({ type: r.type, id: r.id, org: r.org, enqueued_at: r.enqueued_at }));
}

Deno.test("the terminal commit enqueues notify; the job fans out once per endpoint and webhook_url", async () => {
  const rx = receiver();
  const s = await setup({ webhookUrl: `${rx.url}?per-request` });
  try {
    const on = await createEndpoint(s.kv, s.org.id, { url: rx.url }, s.clock.now());
    const off = await createEndpoint(s.kv, s.org.id, { url: `${rx.url}?off` }, s.clock.now());
    await setEndpointEnabled(s.kv, s.org.id, off.endpoint.id, false, s.clock.now());

    // The submit job is on the queue already; completing adds the notify job in the same commit.
    assert.equal((await pendingJobs(s.kv)).find((j) => j.type === NOTIFY_JOB), undefined);
    const done = await updateGeneration(s.gen, s.id, completePlan(() => true, s.clock.now()));
    assert.equal(done.committed?.status, "completed");
    const notify = (await pendingJobs(s.kv)).find((j) => j.type === NOTIFY_JOB);
    assert.equal(notify?.id, s.id);
    assert.equal(notify?.org, s.org.id);

    // At-least-once: the same job three times, two of them racing, still gives one fan-out.
    const [a, b] = await Promise.all([
      notifyGeneration(s.deps, s.id),
      notifyGeneration(s.deps, s.id),
    ]);
    assert.deepEqual(await notifyGeneration(s.deps, s.id), []);
    const created = [...a, ...b];
    assert.equal(created.length, 2);
    const listed = (await listDeliveries(s.kv, s.org.id)).data;
    assert.deepEqual(listed.map((d) => d.id).sort(), [...created].sort());
    assert.deepEqual(
      listed.map((d) => d.endpoint_id).sort(),
      [on.endpoint.id, null].sort(),
      "the disabled endpoint gets nothing",
    );

    const payload = JSON.parse(listed[0].body);
    assert.equal(payload.eventType, "video.generation.completed");
    assert.equal(payload.generationId, s.id);
    assert.equal(payload.status, "completed");
    assert.equal(payload.errorMessage, null);
    assert.equal(payload.data.id, s.id);
    const url = new URL(payload.outputUrl);
    assert.equal(url.origin, "http://pv.test");
    assert.ok(
      await verifyVideoSignature(
        SECRET_KEY,
        s.id,
        url.searchParams.get("exp"),
        url.searchParams.get("sig"),
        s.clock.now() / 1000,
      ),
    );

    // Each delivery's attempt job rode in the fan-out commit; run them as the queue would.
    for (const id of created) await runDeliveryAttempt(s.deps, id);
    assert.equal(rx.received.length, 2);
    const defaultSecret = await getOrCreateDefaultSecret(s.kv, s.org.id);
    const perRequest = rx.received.find((r) =>
      r.headers.get("webhook-id") &&
      listed.find((d) => d.endpoint_id === null)!.msg_id === r.headers.get("webhook-id")
    )!;
    const nowSec = Math.floor(s.clock.now() / 1000);
    assert.ok(await verifyWebhook(defaultSecret, perRequest.headers, perRequest.body, nowSec));
    const toEndpoint = rx.received.find((r) => r !== perRequest)!;
    assert.ok(await verifyWebhook(on.secret, toEndpoint.headers, toEndpoint.body, nowSec));
    assert.equal(
      await verifyWebhook(on.secret, perRequest.headers, perRequest.body, nowSec),
      false,
    );
  } finally {
    s.kv.close();
    await rx.close();
  }
});

Deno.test("a receiver answering 500 twice then 200 gets three attempts with one webhook-id", async () => {
  const rx = receiver([500, 500, 200]);
  const s = await setup();
  try {
    const ep = await createEndpoint(s.kv, s.org.id, { url: rx.url }, s.clock.now());
    await updateGeneration(s.gen, s.id, failPlan("upstream exploded", s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);

    await runDeliveryAttempt(s.deps, deliveryId);
    assert.deepEqual(s.jobs.sent, [{
      job: { type: ATTEMPT_JOB, id: deliveryId },
      delayMs: RETRY_SCHEDULE_MS[0],
    }]);
    // A copy of the job that runs before the retry is due sends nothing and asks for the same
    // due time again (in KV the two enqueues are one job: same type and id).
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(rx.received.length, 1);
    assert.deepEqual(s.jobs.sent[1], s.jobs.sent[0]);
    s.jobs.sent.pop();

    s.clock.advance(RETRY_SCHEDULE_MS[0]);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(s.jobs.sent.at(-1)!.delayMs, RETRY_SCHEDULE_MS[1]);
    s.clock.advance(RETRY_SCHEDULE_MS[1]);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(s.jobs.sent.length, 2, "success schedules nothing more");

    assert.equal(rx.received.length, 3);
    const ids = new Set(rx.received.map((r) => r.headers.get("webhook-id")));
    assert.equal(ids.size, 1);
    for (const r of rx.received) {
      const sentAt = Number(r.headers.get("webhook-timestamp"));
      assert.ok(await verifyWebhook(ep.secret, r.headers, r.body, sentAt));
      const body = JSON.parse(r.body);
      assert.equal(body.status, "failed");
      assert.equal(body.errorMessage, "upstream exploded");
      assert.equal(body.outputUrl, null);
    }
    const d = (await getDelivery(s.kv, s.org.id, deliveryId))!;
    assert.equal(d.status, "succeeded");
    assert.deepEqual(d.attempts.map((x) => x.status_code), [500, 500, 200]);
  } finally {
    s.kv.close();
    await rx.close();
  }
});

Deno.test("notify ignores a generation that is not terminal (or unknown)", async () => {
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: "http://127.0.0.1:9/x" }, s.clock.now());
    assert.deepEqual(await notifyGeneration(s.deps, s.id), []);
    assert.deepEqual(await notifyGeneration(s.deps, "gen_01JUNKNOWN0000000000000000"), []);
    assert.equal((await listDeliveries(s.kv, s.org.id)).data.length, 0);
  } finally {
    s.kv.close();
  }
});

Deno.test("the sweep re-enqueues a lost delivery once per interval, in the commit that stamps it, and never one being sent", async () => {
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: "http://127.0.0.1:9/x" }, s.clock.now());
    await updateGeneration(s.gen, s.id, failPlan("x", s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);
    assert.deepEqual(await sweepDueDeliveries(s.deps, s.clock.now()), []);
    s.clock.advance(SWEEP_GRACE_MS);
    // Two sweeps racing (say, two processes): one requeue, stamped on the delivery.
    const runs = await Promise.all([1, 2].map(() => sweepDueDeliveries(s.deps, s.clock.now())));
    assert.deepEqual(runs.flat(), [deliveryId]);
    const stamped = (await getDelivery(s.kv, s.org.id, deliveryId))!;
    assert.equal(stamped.requeued_at, s.clock.now());
    assert.equal(stamped.next_attempt_at, s.clock.now());
    // Behind a backlog its job is late, not lost: the following minutes leave it alone.
    for (let t = 60_000; t < REQUEUE_INTERVAL_MS; t += 60_000) {
      s.clock.advance(60_000);
      assert.deepEqual(await sweepDueDeliveries(s.deps, s.clock.now()), [], `after ${t} ms`);
    }
    s.clock.advance(60_000);
    // A worker is sending it right now: the sweep keeps off until the claim runs out.
    const entry = await getDeliveryEntry(s.kv, deliveryId);
    const claimed = await claimDeliveryAttempt(
      s.kv,
      entry as Deno.KvEntry<WebhookDelivery>,
      s.clock.now() + 30_000,
    );
    assert.ok(claimed);
    assert.deepEqual(await sweepDueDeliveries(s.deps, s.clock.now()), []);
    s.clock.advance(30_001);
    const beforeLastRequeue = Date.now();
    assert.deepEqual(await sweepDueDeliveries(s.deps, s.clock.now()), [deliveryId]);
    // Nothing went through deps.jobs: each requeue's job rode in its commit (the same type and
    // id as the fan-out's attempt, so they merge into one job, re-enqueued by the last requeue).
    assert.deepEqual(s.jobs.sent, []);
    const attempts = (await pendingJobs(s.kv)).filter((j) => j.type === ATTEMPT_JOB);
    assert.deepEqual(attempts.map((j) => j.id), [deliveryId]);
    assert.ok(attempts[0].enqueued_at >= beforeLastRequeue);
  } finally {
    s.kv.close();
  }
});

Deno.test("duplicate webhook sweep jobs collapse on the lease; a failing sweep gives it back", async () => {
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: "http://127.0.0.1:9/x" }, s.clock.now());
    await updateGeneration(s.gen, s.id, failPlan("x", s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);
    s.clock.advance(SWEEP_GRACE_MS);
    const runs = await Promise.all([1, 2, 3].map(() => webhookSweep.run(s.deps)));
    assert.deepEqual(runs.filter((r) => r !== null), [{ events: [], deliveries: [deliveryId] }]);
    s.clock.advance(SWEEP_LEASE_MS - 1);
    assert.equal(await webhookSweep.run(s.deps), null, "still held: the same minute's copy");
    s.clock.advance(1);
    assert.deepEqual(await webhookSweep.run(s.deps), { events: [], deliveries: [] });

    // A sweep that throws lets the queue's redelivery sweep at once instead of a minute later.
    s.clock.advance(REQUEUE_INTERVAL_MS);
    const flaky = kvFailingOnce(s.kv, "list", "KV unavailable");
    await assert.rejects(webhookSweep.run({ ...s.deps, kv: flaky }), /KV unavailable/);
    assert.deepEqual(await webhookSweep.run(s.deps), { events: [], deliveries: [deliveryId] });
  } finally {
    s.kv.close();
  }
});

Deno.test("the cron's webhook sweep job runs through the real queue and a lost delivery arrives once", async () => {
  const rx = receiver();
  const s = await setup();
  const handlers = webhookJobHandlers(s.deps);
  const { promise: lost, resolve: markLost } = Promise.withResolvers<void>();
  let attempts = 0;
  // The fan-out's attempt message is acknowledged without being run: it is lost.
  const listening = createKvJobQueue(s.kv, () => {}).listen({
    ...handlers,
    [ATTEMPT_JOB]: (job: Job) =>
      attempts++ === 0 ? (markLost(), Promise.resolve()) : handlers[ATTEMPT_JOB](job),
  });
  try {
    await createEndpoint(s.kv, s.org.id, { url: rx.url }, s.clock.now());
    await updateGeneration(s.gen, s.id, failPlan("x", s.clock.now()));
    await lost;
    s.clock.advance(SWEEP_GRACE_MS);
    // Two firings of the same minute (two processes): one sweep, one requeued attempt.
    await Promise.all([1, 2].map(() => enqueueMinuteJob(s.kv, SWEEP_JOB, s.clock.now())));
    const deadline = Date.now() + 5000;
    let delivery: WebhookDelivery | undefined;
    while (Date.now() < deadline) {
      delivery = (await listDeliveries(s.kv, s.org.id)).data[0];
      if (delivery?.status === "succeeded") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(delivery?.status, "succeeded");
    assert.equal(rx.received.length, 1);
    assert.equal(delivery.attempt_count, 1);
  } finally {
    s.kv.close();
    await listening;
    await rx.close();
  }
});

Deno.test("the payload's output_url outlives the last retry; the GET API's URL keeps its short life", async () => {
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: "http://127.0.0.1:9/x" }, s.clock.now());
    await updateGeneration(s.gen, s.id, completePlan(() => true, s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);
    const d = (await getDelivery(s.kv, s.org.id, deliveryId))!;
    const url = new URL(JSON.parse(d.body).outputUrl);
    assert.equal(JSON.parse(d.body).data.output_url, url.href, "compat field and data agree");
    const valid = (atMs: number, u = url) =>
      verifyVideoSignature(
        SECRET_KEY,
        s.id,
        u.searchParams.get("exp"),
        u.searchParams.get("sig"),
        Math.floor(atMs / 1000),
      );
    // The last retry happens after every wait in the schedule, each up to 20% late (jitter).
    const lastRetryMs = s.clock.now() + RETRY_SCHEDULE_MS.reduce((a, b) => a + b) * 1.2;
    assert.ok(await valid(lastRetryMs), "valid at the last retry");
    assert.ok(await valid(s.clock.now() + 6 * 24 * HOUR_MS), "valid for days after, for resends");

    const g = (await loadGeneration(s.kv, s.id))!.value;
    const api = await toApiGeneration(g, {
      publicUrl: "http://pv.test",
      secretKey: SECRET_KEY,
      nowMs: s.clock.now(),
    });
    const apiUrl = new URL(api.output_url!);
    assert.ok(await valid(s.clock.now(), apiUrl));
    assert.equal(await valid(s.clock.now() + 3 * HOUR_MS, apiUrl), false, "GET URL is short-lived");
  } finally {
    s.kv.close();
  }
});

Deno.test("a lost notify job is rescued: the terminal commit records the event as owed, the sweep re-enqueues it", async () => {
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: "http://127.0.0.1:9/x" }, s.clock.now());
    // Not terminal yet: nothing is owed, whatever the time.
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now() + 10 * SWEEP_GRACE_MS), []);

    // The terminal commit's notify message is lost (this queue is never listened to).
    await updateGeneration(s.gen, s.id, failPlan("boom", s.clock.now()));
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), [], "within the grace");
    assert.deepEqual(s.jobs.sent, []);
    s.clock.advance(SWEEP_GRACE_MS);
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), [s.id]);
    assert.deepEqual(s.jobs.sent, [{ job: { type: NOTIFY_JOB, id: s.id }, delayMs: undefined }]);
    // A notify job may only be waiting behind a backlog: no duplicate within the interval.
    s.clock.advance(REQUEUE_INTERVAL_MS - 1);
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), []);
    assert.equal(s.jobs.sent.length, 1);
    s.clock.advance(1);
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), [s.id], "again after it");
    assert.equal(s.jobs.sent.length, 2);

    // Running the rescued job fans out and settles the debt: later sweeps find nothing.
    assert.equal((await notifyGeneration(s.deps, s.id)).length, 1);
    s.clock.advance(60 * SWEEP_GRACE_MS);
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), []);
    assert.equal((await listDeliveries(s.kv, s.org.id)).data.length, 1);
  } finally {
    s.kv.close();
  }
});

Deno.test("an owed event already recorded (e.g. by a racing job) is dropped by the sweep, not re-enqueued", async () => {
  const s = await setup();
  try {
    await updateGeneration(s.gen, s.id, completePlan(() => true, s.clock.now()));
    const owedAt = s.clock.now();
    assert.deepEqual(await notifyGeneration(s.deps, s.id), [], "no endpoints: recorded, none sent");
    // Re-create the owed mark as a crash between two writers could leave it.
    const op = s.kv.atomic();
    addOwedEventMutations(op, s.id, owedAt);
    await op.commit();
    s.clock.advance(SWEEP_GRACE_MS);
    assert.deepEqual(await sweepOwedEvents(s.deps, s.clock.now()), []);
    assert.deepEqual(s.jobs.sent, []);
    assert.deepEqual(await listOwedEvents(s.kv, s.clock.now(), 10), []);
  } finally {
    s.kv.close();
  }
});

Deno.test("an attempt whose runner died mid-send is retried when its in-flight mark runs out, not dropped by the takeover", async () => {
  const rx = receiver();
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: rx.url }, s.clock.now());
    await updateGeneration(s.gen, s.id, cancelPlan(s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);
    // The runner that claimed the attempt job (lease 30 s from its claim) marked the delivery
    // in flight a moment later, as attemptDelivery does before its POST, then was SIGKILLed.
    const jobLeaseEnd = s.clock.now() + 30_000;
    s.clock.advance(50);
    const entry = await getDeliveryEntry(s.kv, deliveryId);
    const claimed = await claimDeliveryAttempt(
      s.kv,
      entry as Deno.KvEntry<WebhookDelivery>,
      s.clock.now() + IN_FLIGHT_MS,
    );
    assert.ok(claimed);
    // The lease lapses first: a live runner takes the job over while the mark still holds.
    s.clock.advance(jobLeaseEnd - s.clock.now());
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(rx.received.length, 0, "the mark keeps a second POST off");
    // Its job comes back when the mark runs out, instead of ending with nothing queued (which
    // left the event to the minute sweep, past the grace: a minute and more late).
    assert.deepEqual(s.jobs.sent, [{ job: { type: ATTEMPT_JOB, id: deliveryId }, delayMs: 50 }]);
    s.clock.advance(50);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(rx.received.length, 1);
    assert.equal((await getDelivery(s.kv, s.org.id, deliveryId))!.status, "succeeded");
  } finally {
    s.kv.close();
    await rx.close();
  }
});

Deno.test("an attempt job that runs before its delivery is due comes back when it is due", async () => {
  const rx = receiver([500, 500, 200]);
  const s = await setup();
  try {
    await createEndpoint(s.kv, s.org.id, { url: rx.url }, s.clock.now());
    await updateGeneration(s.gen, s.id, failPlan("x", s.clock.now()));
    const [deliveryId] = await notifyGeneration(s.deps, s.id);
    await runDeliveryAttempt(s.deps, deliveryId);
    s.clock.advance(RETRY_SCHEDULE_MS[0]);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(rx.received.length, 2);
    // The runner died after recording the second 500 but before enqueueing its retry (due in a
    // minute): the job's lapsed lease brings it back 30 s later, before the retry is due.
    s.jobs.sent.length = 0;
    s.clock.advance(30_000);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal(rx.received.length, 2, "not sent early");
    const wait = RETRY_SCHEDULE_MS[1] - 30_000;
    assert.deepEqual(s.jobs.sent, [{ job: { type: ATTEMPT_JOB, id: deliveryId }, delayMs: wait }]);
    s.clock.advance(wait);
    await runDeliveryAttempt(s.deps, deliveryId);
    assert.equal((await getDelivery(s.kv, s.org.id, deliveryId))!.status, "succeeded");
  } finally {
    s.kv.close();
    await rx.close();
  }
});

Deno.test("typed events are opt-in: an endpoint subscribed only to failures gets only failures", async () => {
  const rx = receiver();
  const s = await setup();
  try {
    const compat = await createEndpoint(s.kv, s.org.id, { url: `${rx.url}?compat` }, s.clock.now());
    const failures = await registerEndpoint(s.deps, s.org.id, {
      url: `${rx.url}?failures`,
      events: ["video.generation.failed"],
    });
    assert.deepEqual(failures.endpoint.events, ["video.generation.failed"]);
    // An unknown event is refused, naming the field, and nothing is added.
    await assert.rejects(
      () => registerEndpoint(s.deps, s.org.id, { url: rx.url, events: ["video.done"] }),
      (e: unknown) => e instanceof BadRequest && e.param === "events",
    );

    // One generation of each outcome: completed (s.id), failed, cancelled.
    const more = async () =>
      (await createGeneration(
        s.gen,
        s.org.id,
        parseGenerationBody({ model: "t/one", prompt: "p" }),
      ))
        .id;
    const failed = await more();
    const cancelled = await more();
    await updateGeneration(s.gen, s.id, completePlan(() => true, s.clock.now()));
    await updateGeneration(s.gen, failed, failPlan("the provider said no", s.clock.now()));
    await updateGeneration(s.gen, cancelled, cancelPlan(s.clock.now()));
    for (const id of [s.id, failed, cancelled]) await notifyGeneration(s.deps, id);

    const of = async (endpointId: string) =>
      (await listDeliveries(s.kv, s.org.id, { endpointId, limit: 10 })).data;
    const typed = await of(failures.endpoint.id);
    assert.deepEqual(typed.map((d) => d.event_type), ["video.generation.failed"]);
    const body = JSON.parse(typed[0].body);
    assert.deepEqual(Object.keys(body).sort(), ["data", "timestamp", "type"]);
    assert.equal(body.type, "video.generation.failed");
    assert.equal(new Date(body.timestamp).toISOString(), body.timestamp, "RFC 3339");
    assert.equal(body.data.id, failed);
    assert.equal(body.data.status, "failed");
    assert.equal(body.data.error_message, "the provider said no");
    assert.equal(body.data.cost_cents, 0);
    assert.ok(body.data.urls.get.endsWith(`/v1/video/generations/${failed}`), "the API object");

    // The endpoint that chose nothing keeps the compat event, for every outcome.
    const old = await of(compat.endpoint.id);
    assert.deepEqual(old.map((d) => d.event_type), Array(3).fill("video.generation.completed"));
    assert.deepEqual(
      old.map((d) => JSON.parse(d.body).status).sort(),
      ["cancelled", "completed", "failed"],
    );
    assert.ok(old.every((d) => "eventType" in JSON.parse(d.body)));
  } finally {
    await rx.close();
    s.kv.close();
  }
});
