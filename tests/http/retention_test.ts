/**
 * Retention with a clock moved forward: a video past VIDEO_RETENTION_DAYS is deleted from
 * storage (bucket and disk) and shows as expired in the API; a younger one and live KV records
 * are untouched; expired sessions, magic links and idempotency records are gone (the record
 * expiry sweep, lib/db/expiry.ts); a second run changes nothing more. Against both backends.
 */
import assert from "node:assert/strict";
import { createMagicLink, createSession } from "../../lib/db/sessions.ts";
import { findOrCreateUserByEmail } from "../../lib/db/users.ts";
import { addMembership } from "../../lib/db/memberships.ts";
import { SESSION_COOKIE } from "../../lib/auth/session.ts";
import { backendFor, localBackend } from "../../lib/storage/mod.ts";
import { RETENTION_LEASE_MS, retentionDeps, retentionSweep } from "../../lib/storage/retention.ts";
import { EXPIRY_LEASE_MS } from "../../lib/db/expiry.ts";
import { recordExpirySweep } from "../../lib/background.ts";
import { createBucket, s3Env, startSwiftS3, type SwiftS3 } from "../support/swift.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";

const DAY = 24 * 3600_000;
// The moved clock: real time plus this. Shared by the tests of this file and only ever moved
// forward, as ids are time-ordered within the process (a monotonic ULID factory).
let offset = 0;
const now = () => Date.now() + offset;

async function generate(server: TestServer, key: string, idempotencyKey?: string) {
  const created = await call(server.url, "POST", "/v1/video/generations", {
    key,
    body: { model: "local/preview", prompt: "a tide pool", duration: 1, resolution: "360p" },
    headers: idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {},
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return await waitFor(
    async () => {
      const r = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, { key });
      return r.body.status === "completed" ? r.body : undefined;
    },
    "completed",
    60_000,
  );
}

/** Everything in KV but the sweep's own bookkeeping, to compare runs. */
async function snapshot(kv: Deno.Kv) {
  const out: [string, unknown][] = [];
  for await (const e of kv.list({ prefix: [] })) {
    if (e.key[0] === "retention_lease" || e.key[0] === "expiry_lease") continue;
    out.push([JSON.stringify(e.key), e.value]);
  }
  return out;
}

async function retentionScenario(env: Record<string, string>, swift?: SwiftS3) {
  const server = await startTestServer(
    { ...env, VIDEO_RETENTION_DAYS: "30", RATE_LIMIT_PER_MINUTE: "100000" },
    { now },
    { background: true },
  );
  try {
    const { services } = server;
    const { kv } = services;
    const org = await fundedOrg(services, 1000);
    const old = await generate(server, org.key, "idem-1");
    const oldSession = await createSession(kv, "usr_01JD0000000000000000000000", { nowMs: now() });
    await createMagicLink(kv, { email: "a@example.com", next: "/" }, now());
    offset += 20 * DAY;
    const young = await generate(server, org.key);
    offset += 11 * DAY; // old: 31 days, young: 11 days
    const liveSession = await createSession(kv, "usr_01JD0000000000000000000001", {
      nowMs: now(),
    });

    const backend = backendFor(services.config);
    assert.ok(await backend.size(old.id));
    // A copy left on the disk by a move to s3 goes too.
    if (swift) {
      const copy = new Blob([new Uint8Array(100).fill(1)]).stream();
      await localBackend(services.config.DATA_DIR).write(old.id, {
        contentType: "video/mp4",
        ext: "mp4",
      }, copy);
    }

    const first = await retentionSweep.run(retentionDeps(services));
    assert.deepEqual(first?.expired, [old.id]);
    const expiryDeps = { kv, now, log: () => {} };
    assert.deepEqual(await recordExpirySweep.run(expiryDeps), {
      sessions: 1,
      magic_links: 1,
      idempotency: 1,
      flash: 0,
    });

    assert.equal(await backend.size(old.id), null, "deleted from storage");
    assert.equal(await localBackend(services.config.DATA_DIR).size(old.id), null, "and from disk");
    assert.ok(await backend.size(young.id), "the younger video stays");
    const get = (id: string) =>
      call(server.url, "GET", `/v1/video/generations/${id}`, { key: org.key });
    const expired = (await get(old.id)).body;
    assert.equal(expired.status, "completed");
    assert.equal(expired.output_url, null);
    assert.equal(expired.output_expired, true);
    assert.equal(expired.cost_cents, old.cost_cents, "nothing else about it changes");
    const kept = (await get(young.id)).body;
    assert.ok(kept.output_url);
    assert.equal(kept.output_expired, undefined);
    const served = await fetch(
      server.url + new URL(kept.output_url).pathname + new URL(kept.output_url).search,
    );
    assert.equal(served.status, 200);
    await served.body?.cancel();
    const usage = (await call(server.url, "GET", "/v1/usage", { key: org.key })).body;
    assert.equal(
      usage.recent_requests.find((r: { id: string }) => r.id === old.id).output_expired,
      true,
    );

    const sessions = await Array.fromAsync(kv.list({ prefix: ["sessions"] }));
    assert.deepEqual(sessions.map((e) => e.value), [liveSession.session]);
    assert.equal((await Array.fromAsync(kv.list({ prefix: ["user_sessions"] }))).length, 1);
    assert.equal(oldSession.session.expires_at <= now(), true);
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["magic_links"] })), []);
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["idempotency"] })), []);

    // While the lease is held a second firing does nothing; after it, a run changes nothing.
    assert.equal(await retentionSweep.run(retentionDeps(services)), null);
    const before = await snapshot(kv);
    offset += Math.max(RETENTION_LEASE_MS, EXPIRY_LEASE_MS) + 1;
    const second = await retentionSweep.run(retentionDeps(services));
    assert.deepEqual(second, { expired: [] });
    assert.deepEqual(await recordExpirySweep.run(expiryDeps), {
      sessions: 0,
      magic_links: 0,
      idempotency: 0,
      flash: 0,
    });
    assert.deepEqual(await snapshot(kv), before);
    assert.ok(await backend.size(young.id));

    // The dashboard's usage page says so (a member of the org, signed in at the moved time).
    const user = await findOrCreateUserByEmail(kv, { email: "viewer@example.com" });
    await addMembership(kv, org.orgId, user.id, "member");
    const { token } = await createSession(kv, user.id, { orgId: org.orgId, nowMs: now() });
    const page = await fetch(`${server.url}/usage`, {
      headers: { Cookie: `${SESSION_COOKIE}=${token}` },
    });
    assert.equal(page.status, 200);
    const html = await page.text();
    const row = (id: string) => new RegExp(`data-id="${id}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? "";
    assert.match(row(old.id), /Expired/);
    assert.match(row(young.id), /Watch/);
  } finally {
    await server.close();
  }
}

Deno.test("retention with a moved clock: local storage", async () => {
  await retentionScenario({});
});

Deno.test("retention with a moved clock: s3 storage (Swift)", async () => {
  const swift = await startSwiftS3();
  try {
    await createBucket(swift, "videos");
    await retentionScenario(s3Env(swift, "videos"), swift);
  } finally {
    await swift.close();
  }
});

Deno.test("VIDEO_RETENTION_DAYS=0 keeps videos forever", async () => {
  const server = await startTestServer(
    { VIDEO_RETENTION_DAYS: "0" },
    { now },
    { background: true },
  );
  try {
    const org = await fundedOrg(server.services, 1000);
    const g = await generate(server, org.key);
    offset += 3650 * DAY;
    const r = await retentionSweep.run(retentionDeps(server.services));
    assert.deepEqual(r?.expired, []);
    assert.ok(await backendFor(server.services.config).size(g.id));
  } finally {
    await server.close();
  }
});
