import assert from "node:assert/strict";
import {
  attemptDelivery,
  type DeliveryDeps,
  GENERATION_COMPLETED,
  generationEventPayload,
  RETRY_SCHEDULE_MS,
} from "./deliver.ts";
import { verifyWebhook } from "./sign.ts";
import {
  createDeliveryMutations,
  createEndpoint,
  deleteEndpoint,
  getDelivery,
  getOrCreateDefaultSecret,
  resendDelivery,
  rotateEndpointSecret,
  SECRET_OVERLAP_MS,
  setEndpointEnabled,
} from "../db/webhooks.ts";
import { newId } from "../ids.ts";

const T0 = 1_767_225_600_000;

interface Received {
  headers: Headers;
  body: string;
}

/** A real webhook receiver on 127.0.0.1 that answers with the given statuses in turn. */
function startReceiver(
  statuses: number[] = [200],
  opts: { hang?: Promise<void>; headers?: Record<string, string> } = {},
) {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    received.push({ headers: req.headers, body: await req.text() });
    if (opts.hang) await opts.hang;
    const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
    const body = status === 204 ? null : status === 200 ? "thanks" : "x".repeat(10_000);
    return new Response(body, { status, headers: opts.headers });
  });
  const url = `http://127.0.0.1:${server.addr.port}/hooks`;
  return { server, url, received, [Symbol.asyncDispose]: () => server.shutdown() };
}

function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function addDelivery(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string | null,
  url: string,
  nowMs: number,
) {
  const generation = {
    id: newId("gen", nowMs),
    status: "completed",
    model: "local/preview",
    output_url: "https://pv.example/v/1.mp4",
    cost_cents: 40,
    latency_ms: 1200,
    error_message: null,
    created_at: Math.floor(nowMs / 1000),
    completed_at: Math.floor(nowMs / 1000),
  };
  const op = kv.atomic();
  const id = createDeliveryMutations(op, {
    orgId,
    endpointId,
    url,
    eventType: GENERATION_COMPLETED,
    payload: generationEventPayload(generation),
    nowMs,
  });
  assert.equal((await op.commit()).ok, true);
  return id;
}

function deps(c: ReturnType<typeof clock>, extra: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return { nowMs: c.now, allowPrivate: true, random: () => 0.5, ...extra };
}

Deno.test("generationEventPayload carries the compat fields and the whole generation", () => {
  const gen = {
    id: "gen_1",
    status: "failed",
    output_url: null,
    error_message: "Provider refused the prompt",
    model: "m",
  };
  assert.deepEqual(generationEventPayload(gen), {
    eventType: "video.generation.completed",
    generationId: "gen_1",
    status: "failed",
    outputUrl: null,
    errorMessage: "Provider refused the prompt",
    data: gen,
  });
});

Deno.test("a delivery arrives signed with the endpoint's secret and is marked succeeded", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([200]);
  const org = newId("org");
  const { endpoint, secret } = await createEndpoint(kv, org, { url: rx.url }, T0);
  const id = await addDelivery(kv, org, endpoint.id, rx.url, T0);
  const c = clock();

  assert.deepEqual(await attemptDelivery(kv, id, deps(c)), { done: true });

  assert.equal(rx.received.length, 1);
  const got = rx.received[0];
  assert.equal(got.headers.get("content-type"), "application/json");
  assert.equal(got.headers.get("webhook-timestamp"), String(T0 / 1000));
  assert.equal(await verifyWebhook(secret, got.headers, got.body, T0 / 1000), true);
  const body = JSON.parse(got.body);
  assert.equal(body.eventType, "video.generation.completed");
  assert.equal(body.status, "completed");
  assert.equal(body.outputUrl, "https://pv.example/v/1.mp4");
  assert.equal(body.data.cost_cents, 40);

  const d = (await getDelivery(kv, org, id))!;
  assert.equal(d.status, "succeeded");
  assert.equal(d.next_attempt_at, null);
  assert.equal(d.attempts.length, 1);
  assert.equal(d.attempts[0].status_code, 200);
  assert.equal(d.attempts[0].response_excerpt, "thanks");
  // A late duplicate of the job does nothing.
  assert.deepEqual(await attemptDelivery(kv, id, deps(c)), { done: true });
  assert.equal(rx.received.length, 1);
});

Deno.test("500, 500, 200: three attempts, one webhook-id, growing backoff", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([500, 500, 200]);
  const org = newId("org");
  const { endpoint, secret } = await createEndpoint(kv, org, { url: rx.url }, T0);
  const id = await addDelivery(kv, org, endpoint.id, rx.url, T0);
  const c = clock();

  const first = await attemptDelivery(kv, id, deps(c));
  assert.equal(first.done, false);
  assert.ok(first.retryInMs! > 0 && first.retryInMs! <= 10_000, `first ${first.retryInMs}`);
  // The same job run again before the retry is due: no second POST, nothing recorded; it asks
  // to come back when the retry is due (one job per delivery: the re-enqueue merges).
  assert.deepEqual(await attemptDelivery(kv, id, deps(c)), {
    done: false,
    retryInMs: first.retryInMs,
  });
  assert.equal(rx.received.length, 1);

  c.advance(first.retryInMs!);
  const second = await attemptDelivery(kv, id, deps(c));
  assert.equal(second.done, false);
  assert.ok(second.retryInMs! > first.retryInMs!);

  c.advance(second.retryInMs!);
  assert.deepEqual(await attemptDelivery(kv, id, deps(c)), { done: true });

  assert.equal(rx.received.length, 3);
  const ids = new Set(rx.received.map((r) => r.headers.get("webhook-id")));
  assert.equal(ids.size, 1);
  const stamps = rx.received.map((r) => Number(r.headers.get("webhook-timestamp")));
  assert.deepEqual(stamps, [T0, T0 + first.retryInMs!, c.now()].map((t) => Math.floor(t / 1000)));
  for (const r of rx.received) {
    const ts = Number(r.headers.get("webhook-timestamp"));
    assert.equal(await verifyWebhook(secret, r.headers, r.body, ts), true);
  }
  const d = (await getDelivery(kv, org, id))!;
  assert.equal(d.status, "succeeded");
  assert.deepEqual(d.attempts.map((a) => a.status_code), [500, 500, 200]);
  assert.equal(d.attempts[0].error, "Endpoint answered 500");
  assert.ok(d.attempts[0].response_excerpt.length <= 1000);
});

Deno.test("two copies of the same job at once: one POST, one recorded attempt", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([500]);
  const org = newId("org");
  const id = await addDelivery(kv, org, null, rx.url, T0);
  const c = clock();
  const results = await Promise.all([
    attemptDelivery(kv, id, deps(c)),
    attemptDelivery(kv, id, deps(c)),
  ]);
  assert.equal(rx.received.length, 1);
  assert.equal(results.filter((r) => r.retryInMs !== undefined).length, 1);
  assert.equal((await getDelivery(kv, org, id))!.attempts.length, 1);
});

Deno.test("an endpoint that always fails is retried for about a day, then marked failed", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([503]);
  const org = newId("org");
  const id = await addDelivery(kv, org, null, rx.url, T0);
  const c = clock();
  let result = await attemptDelivery(kv, id, deps(c, { random: Math.random }));
  while (!result.done) {
    c.advance(result.retryInMs!);
    result = await attemptDelivery(kv, id, deps(c, { random: Math.random }));
  }
  const d = (await getDelivery(kv, org, id))!;
  assert.equal(d.status, "failed");
  assert.equal(d.attempts.length, RETRY_SCHEDULE_MS.length + 1);
  assert.equal(rx.received.length, RETRY_SCHEDULE_MS.length + 1);
  const hours = (c.now() - T0) / 3_600_000;
  assert.ok(hours > 18 && hours < 30, `gave up after ${hours} h`);

  // A resend starts over with the same webhook-id.
  await resendDelivery(kv, org, id, c.now());
  const again = await attemptDelivery(kv, id, deps(c));
  assert.ok(again.retryInMs! <= 10_000);
  assert.equal(new Set(rx.received.map((r) => r.headers.get("webhook-id"))).size, 1);
});

Deno.test("rotation: both signatures verify during the overlap, only the new one after 24 h", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([200]);
  const org = newId("org");
  const { endpoint, secret: oldSecret } = await createEndpoint(kv, org, { url: rx.url }, T0);
  const rotated = (await rotateEndpointSecret(kv, org, endpoint.id, T0))!;

  const during = await addDelivery(kv, org, endpoint.id, rx.url, T0 + 1000);
  await attemptDelivery(kv, during, deps(clock(T0 + 1000)));
  const tsDuring = (T0 + 1000) / 1000;
  const a = rx.received[0];
  assert.equal(await verifyWebhook(rotated.secret, a.headers, a.body, tsDuring), true);
  assert.equal(await verifyWebhook(oldSecret, a.headers, a.body, tsDuring), true);

  const laterMs = T0 + SECRET_OVERLAP_MS + 1000;
  const after = await addDelivery(kv, org, endpoint.id, rx.url, laterMs);
  await attemptDelivery(kv, after, deps(clock(laterMs)));
  const b = rx.received[1];
  assert.equal(await verifyWebhook(rotated.secret, b.headers, b.body, laterMs / 1000), true);
  assert.equal(await verifyWebhook(oldSecret, b.headers, b.body, laterMs / 1000), false);
  assert.equal(b.headers.get("webhook-signature")!.split(" ").length, 1);
});

Deno.test("a per-request webhook_url is signed with the org's default secret", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([204]);
  const org = newId("org");
  const id = await addDelivery(kv, org, null, rx.url, T0);
  assert.deepEqual(await attemptDelivery(kv, id, deps(clock())), { done: true });
  const secret = await getOrCreateDefaultSecret(kv, org);
  const r = rx.received[0];
  assert.equal(await verifyWebhook(secret, r.headers, r.body, T0 / 1000), true);
});

Deno.test("private targets are refused in production and fail without retrying", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([200]);
  const org = newId("org");
  const id = await addDelivery(kv, org, null, rx.url, T0);
  const result = await attemptDelivery(kv, id, deps(clock(), { allowPrivate: false }));
  assert.deepEqual(result, { done: true });
  assert.equal(rx.received.length, 0);
  const d = (await getDelivery(kv, org, id))!;
  assert.equal(d.status, "failed");
  assert.match(d.attempts[0].error!, /not allowed/);
});

Deno.test("deleted or disabled endpoints end their deliveries as failed", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([200]);
  const org = newId("org");
  const { endpoint: a } = await createEndpoint(kv, org, { url: rx.url }, T0);
  const { endpoint: b } = await createEndpoint(kv, org, { url: rx.url }, T0);
  const toDeleted = await addDelivery(kv, org, a.id, rx.url, T0);
  const toDisabled = await addDelivery(kv, org, b.id, rx.url, T0);
  await deleteEndpoint(kv, org, a.id);
  await setEndpointEnabled(kv, org, b.id, false, T0);
  assert.deepEqual(await attemptDelivery(kv, toDeleted, deps(clock())), { done: true });
  assert.deepEqual(await attemptDelivery(kv, toDisabled, deps(clock())), { done: true });
  assert.equal(rx.received.length, 0);
  assert.equal(
    (await getDelivery(kv, org, toDeleted))!.attempts[0].error,
    "The endpoint was deleted",
  );
  assert.equal(
    (await getDelivery(kv, org, toDisabled))!.attempts[0].error,
    "The endpoint is disabled",
  );
});

Deno.test("a receiver that does not answer in time counts as a failed attempt", async () => {
  using kv = await Deno.openKv(":memory:");
  const release = Promise.withResolvers<void>();
  await using rx = startReceiver([200], { hang: release.promise });
  try {
    const org = newId("org");
    const id = await addDelivery(kv, org, null, rx.url, T0);
    const result = await attemptDelivery(kv, id, deps(clock(), { timeoutMs: 100 }));
    assert.equal(result.done, false);
    const d = (await getDelivery(kv, org, id))!;
    assert.equal(d.attempts[0].status_code, null);
    assert.match(d.attempts[0].error!, /timed out/);
  } finally {
    release.resolve();
  }
});

Deno.test("a receiver's Retry-After stretches the next retry", async () => {
  using kv = await Deno.openKv(":memory:");
  await using rx = startReceiver([429], { headers: { "retry-after": "120" } });
  const id = await addDelivery(kv, newId("org"), null, rx.url, T0);
  const result = await attemptDelivery(kv, id, deps(clock()));
  assert.deepEqual(result, { done: false, retryInMs: 120_000 });
});
