/**
 * The record expiry sweep against a real in-memory KV: expired sessions (with their index), sign-in
 * links, idempotency records and one-time reveals go, live ones stay, a held lease makes a second
 * firing do nothing. The clock is injected: KV's own expiry runs on real time, far off here.
 */
import assert from "node:assert/strict";
import { EXPIRY_LEASE_MS } from "./expiry.ts";
import { recordExpirySweep } from "../background.ts";
import { createMagicLink, createSession, MAGIC_LINK_TTL_MS } from "./sessions.ts";
import { addIdempotencyRecord, IDEMPOTENCY_TTL_MS } from "./idempotency.ts";
import { FLASH_TTL_MS, putFlash } from "./flash.ts";

const NOW = Date.parse("2026-11-29T10:00:00Z");
const DAY = 86_400_000;
const keys = async (kv: Deno.Kv, prefix: string) =>
  (await Array.fromAsync(kv.list({ prefix: [prefix] }))).length;

Deno.test("record expiry: expired sessions, links, idempotency records and reveals are deleted", async () => {
  using kv = await Deno.openKv(":memory:");
  const owner = { sessionId: "ses_a", token: "a".repeat(64) };
  const reveal = { kind: "key_created" as const, keyId: "key_1", name: "ci", secret: "pv_x" };
  await createSession(kv, "usr_old", { nowMs: NOW - 40 * DAY });
  await createSession(kv, "usr_live", { nowMs: NOW });
  await createMagicLink(kv, { email: "a@example.com", next: "/" }, NOW - MAGIC_LINK_TTL_MS);
  await createMagicLink(kv, { email: "b@example.com", next: "/" }, NOW);
  for (const [key, at] of [["old", NOW - IDEMPOTENCY_TTL_MS], ["new", NOW]] as const) {
    const a = kv.atomic();
    addIdempotencyRecord(a, "org_1", key, { body_hash: "h", response: {}, created_at: at });
    await a.commit();
  }
  await putFlash(kv, owner, reveal, NOW - FLASH_TTL_MS);
  await putFlash(kv, owner, reveal, NOW);

  const deps = { kv, now: () => NOW, log: () => {} };
  assert.deepEqual(await recordExpirySweep.run(deps), {
    sessions: 1,
    magic_links: 1,
    idempotency: 1,
    flash: 1,
  });
  for (const prefix of ["sessions", "user_sessions", "magic_links", "idempotency", "flash"]) {
    assert.equal(await keys(kv, prefix), 1, `${prefix}: the live one stays`);
  }
  assert.equal(await recordExpirySweep.run(deps), null, "lease held: a second firing does nothing");
  const later = await recordExpirySweep.run({ ...deps, now: () => NOW + EXPIRY_LEASE_MS });
  assert.deepEqual(later, { sessions: 0, magic_links: 0, idempotency: 0, flash: 0 });
});
