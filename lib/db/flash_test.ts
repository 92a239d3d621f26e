import assert from "node:assert/strict";
import { FLASH_TTL_MS, putFlash, takeFlash } from "./flash.ts";

Deno.test("flash: read once, only by its session and kind, and not after it expires", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.UTC(2026, 10, 29, 10);
    const msg = { kind: "key_created" as const, keyId: "key_x", name: "ci", secret: "pv_secret" };
    const id = await putFlash(kv, "ses_a", msg, now);
    assert.equal(await takeFlash(kv, "ses_b", id, "key_created", now), null, "another session");
    assert.equal(await takeFlash(kv, "ses_a", "../x", "key_created", now), null, "bad id");
    assert.deepEqual(await takeFlash(kv, "ses_a", id, "key_created", now), msg);
    assert.equal(await takeFlash(kv, "ses_a", id, "key_created", now), null, "single read");

    const other = await putFlash(kv, "ses_a", msg, now);
    assert.equal(await takeFlash(kv, "ses_a", other, "invite_created", now), null, "wrong kind");
    assert.equal(await takeFlash(kv, "ses_a", other, "key_created", now), null, "consumed anyway");

    const late = await putFlash(kv, "ses_a", msg, now);
    assert.equal(await takeFlash(kv, "ses_a", late, "key_created", now + FLASH_TTL_MS), null);
  } finally {
    kv.close();
  }
});
