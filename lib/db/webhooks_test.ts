import assert from "node:assert/strict";
import {
  createDeliveryMutations,
  createEndpoint,
  deleteEndpoint,
  deliveryTargets,
  getDelivery,
  getDeliveryEntry,
  getEndpoint,
  getEndpointRecord,
  getOrCreateDefaultSecret,
  listDeliveries,
  listDueDeliveryIds,
  listEndpoints,
  recordDeliveryAttempt,
  resendDelivery,
  rotateEndpointSecret,
  SECRET_OVERLAP_MS,
  setEndpointEnabled,
  signingSecrets,
} from "./webhooks.ts";
import { newId } from "../ids.ts";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

function randomOrgId() {
  return newId("org");
}

async function addDelivery(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string | null,
  nowMs: number,
): Promise<string> {
  const op = kv.atomic();
  const id = createDeliveryMutations(op, {
    orgId,
    endpointId,
    url: "https://hooks.example/in",
    eventType: "video.generation.completed",
    payload: { n: nowMs },
    nowMs,
  });
  assert.equal((await op.commit()).ok, true);
  return id;
}

Deno.test("endpoints: created with a secret shown once, listed, isolated between orgs", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = randomOrgId();
  const other = randomOrgId();
  const { endpoint, secret } = await createEndpoint(kv, org, {
    url: "https://hooks.example/a",
    description: "prod",
  }, T0);
  assert.match(endpoint.id, /^whe_/);
  assert.match(secret, /^whsec_/);
  assert.equal("secret" in endpoint, false);
  assert.deepEqual(await listEndpoints(kv, org), [endpoint]);
  assert.deepEqual(await getEndpoint(kv, org, endpoint.id), endpoint);
  assert.equal(JSON.stringify(await listEndpoints(kv, org)).includes(secret), false);

  assert.deepEqual(await listEndpoints(kv, other), []);
  assert.equal(await getEndpoint(kv, other, endpoint.id), null);
  assert.equal(await setEndpointEnabled(kv, other, endpoint.id, false, T0), null);
  assert.equal(await rotateEndpointSecret(kv, other, endpoint.id, T0), null);
  assert.equal(await deleteEndpoint(kv, other, endpoint.id), false);
  assert.equal((await getEndpoint(kv, org, endpoint.id))?.enabled, true);

  const disabled = await setEndpointEnabled(kv, org, endpoint.id, false, T0 + 1);
  assert.equal(disabled?.enabled, false);
  assert.equal(disabled?.updated_at, T0 + 1);
  assert.deepEqual(await deliveryTargets(kv, org, null), []);
  await setEndpointEnabled(kv, org, endpoint.id, true, T0 + 2);
  assert.deepEqual(await deliveryTargets(kv, org, "https://per-request.example/"), [
    { endpointId: endpoint.id, url: "https://hooks.example/a", typed: false },
    { endpointId: null, url: "https://per-request.example/", typed: false },
  ]);

  assert.equal(await deleteEndpoint(kv, org, endpoint.id), true);
  assert.equal(await getEndpoint(kv, org, endpoint.id), null);
  assert.equal(await deleteEndpoint(kv, org, endpoint.id), false);
});

Deno.test("rotation: old and new secret sign for 24 hours, then only the new one", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = randomOrgId();
  const { endpoint, secret: first } = await createEndpoint(
    kv,
    org,
    { url: "https://h.example" },
    T0,
  );
  const before = await getEndpointRecord(kv, org, endpoint.id);
  assert.deepEqual(await signingSecrets(before!, T0), [first]);

  const rotated = await rotateEndpointSecret(kv, org, endpoint.id, T0 + 1000);
  assert.ok(rotated);
  assert.notEqual(rotated.secret, first);
  const after = (await getEndpointRecord(kv, org, endpoint.id))!;
  assert.deepEqual(await signingSecrets(after, T0 + 1000), [rotated.secret, first]);
  assert.deepEqual(await signingSecrets(after, T0 + 1000 + SECRET_OVERLAP_MS - 1), [
    rotated.secret,
    first,
  ]);
  assert.deepEqual(await signingSecrets(after, T0 + 1000 + SECRET_OVERLAP_MS), [rotated.secret]);
});

Deno.test("default secret: made once per org, then the same", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = randomOrgId();
  const [a, b] = await Promise.all([
    getOrCreateDefaultSecret(kv, org, T0),
    getOrCreateDefaultSecret(kv, org, T0),
  ]);
  assert.match(a, /^whsec_/);
  assert.equal(a, b);
  assert.equal(await getOrCreateDefaultSecret(kv, org), a);
  assert.notEqual(await getOrCreateDefaultSecret(kv, randomOrgId()), a);
});

Deno.test("deliveries: committed with the caller's atomic, listed newest first with cursors", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = randomOrgId();
  const { endpoint } = await createEndpoint(kv, org, { url: "https://h.example" }, T0);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await addDelivery(kv, org, endpoint.id, T0 + i));
  const perRequest = await addDelivery(kv, org, null, T0 + 10);

  // Nothing is written until the caller commits.
  const op = kv.atomic();
  const uncommitted = createDeliveryMutations(op, {
    orgId: org,
    endpointId: null,
    url: "https://x.example",
    eventType: "e",
    payload: {},
    nowMs: T0,
  });
  assert.equal(await getDelivery(kv, org, uncommitted), null);

  const d = (await getDelivery(kv, org, ids[0]))!;
  assert.equal(d.status, "pending");
  assert.equal(d.msg_id, `msg_${ids[0].slice(4)}`);
  assert.equal(d.body, JSON.stringify({ n: T0 }));
  assert.equal(d.next_attempt_at, T0);
  assert.equal(await getDelivery(kv, randomOrgId(), ids[0]), null);

  const page1 = await listDeliveries(kv, org, { limit: 4 });
  assert.deepEqual(page1.data.map((x) => x.id), [perRequest, ids[4], ids[3], ids[2]]);
  assert.ok(page1.next_cursor);
  const page2 = await listDeliveries(kv, org, { limit: 4, cursor: page1.next_cursor });
  assert.deepEqual(page2.data.map((x) => x.id), [ids[1], ids[0]]);
  assert.equal(page2.next_cursor, null);

  const byEndpoint = await listDeliveries(kv, org, { endpointId: endpoint.id, limit: 5 });
  assert.deepEqual(byEndpoint.data.map((x) => x.id), [...ids].reverse());
  assert.equal(byEndpoint.next_cursor, null);
  assert.deepEqual((await listDeliveries(kv, randomOrgId())).data, []);
});

Deno.test("recording an attempt is checked: a stale duplicate records nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const org = randomOrgId();
  const id = await addDelivery(kv, org, null, T0);
  assert.deepEqual(await listDueDeliveryIds(kv, T0), [id]);
  const entry = await getDeliveryEntry(kv, id);
  assert.ok(entry.value);
  const outcome = {
    attempt: {
      at: T0,
      status_code: 500,
      duration_ms: 3,
      error: null,
      response_excerpt: "x".repeat(5000),
    },
    status: "pending" as const,
    retry_index: 1,
    next_attempt_at: T0 + 5000,
  };
  const typed = entry as Deno.KvEntry<typeof entry.value>;
  assert.equal(await recordDeliveryAttempt(kv, typed, outcome, T0), true);
  assert.equal(await recordDeliveryAttempt(kv, typed, outcome, T0), false);
  const d = (await getDelivery(kv, org, id))!;
  assert.equal(d.attempts.length, 1);
  assert.equal(d.attempt_count, 1);
  assert.equal(d.attempts[0].response_excerpt.length, 1000);
  assert.deepEqual(await listDueDeliveryIds(kv, T0 + 4999), []);
  assert.deepEqual(await listDueDeliveryIds(kv, T0 + 5000), [id]);

  // Failing for good leaves the due index; resending puts it back at the start of the schedule.
  const e2 = (await getDeliveryEntry(kv, id)) as Deno.KvEntry<typeof d>;
  await recordDeliveryAttempt(kv, e2, {
    ...outcome,
    status: "failed",
    next_attempt_at: null,
  }, T0 + 5000);
  assert.equal((await getDelivery(kv, org, id))?.status, "failed");
  assert.deepEqual(await listDueDeliveryIds(kv, T0 + 10_000_000), []);
  assert.equal(await resendDelivery(kv, randomOrgId(), id, T0 + 6000), null);
  const resent = await resendDelivery(kv, org, id, T0 + 6000);
  assert.equal(resent?.status, "pending");
  assert.equal(resent?.retry_index, 0);
  assert.equal(resent?.attempts.length, 2);
  assert.deepEqual(await listDueDeliveryIds(kv, T0 + 6000), [id]);
});
