import assert from "node:assert/strict";
import { FLASH_TTL_MS, putFlash, takeFlash } from "./flash.ts";

const A = { sessionId: "ses_a", token: "a".repeat(64) };
const B = { sessionId: "ses_b", token: "b".repeat(64) };

Deno.test("flash: read once, only by its session and kind, and not after it expires", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.UTC(2026, 10, 29, 10);
    const msg = { kind: "key_created" as const, keyId: "key_x", name: "ci", secret: "pv_secret" };
    const id = await putFlash(kv, A, msg, now);
    assert.equal(await takeFlash(kv, B, id, "key_created", now), null, "another session");
    assert.equal(await takeFlash(kv, A, "../x", "key_created", now), null, "bad id");
    assert.deepEqual(await takeFlash(kv, A, id, "key_created", now), msg);
    assert.equal(await takeFlash(kv, A, id, "key_created", now), null, "single read");

    const other = await putFlash(kv, A, msg, now);
    assert.equal(await takeFlash(kv, A, other, "invite_created", now), null, "wrong kind");
    assert.equal(await takeFlash(kv, A, other, "key_created", now), null, "consumed anyway");

    const late = await putFlash(kv, A, msg, now);
    assert.equal(await takeFlash(kv, A, late, "key_created", now + FLASH_TTL_MS), null);
  } finally {
    kv.close();
  }
});

Deno.test("flash: the stored record holds no secret and opens only with the session's token", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = Date.UTC(2026, 10, 29, 10);
  const msg = {
    kind: "webhook_created" as const,
    endpointId: "we_1",
    url: "https://x",
    secret: "whsec_s3cret",
  };
  const id = await putFlash(kv, A, msg, now);
  const [stored] = await Array.fromAsync(kv.list({ prefix: ["flash"] }));
  assert.doesNotMatch(JSON.stringify(stored.value), /whsec_|s3cret|we_1/);
  // The same session id with another cookie token (what a copy of KV could guess at) opens nothing.
  const forged = { sessionId: A.sessionId, token: "c".repeat(64) };
  assert.equal(await takeFlash(kv, forged, id, "webhook_created", now), null);
});
