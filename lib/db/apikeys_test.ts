import assert from "node:assert/strict";
import { Unauthorized } from "../errors.ts";
import { createOrg } from "./orgs.ts";
import { authenticateKey, createApiKey, listApiKeys, revokeApiKey } from "./apikeys.ts";
import { sha256Hex } from "../crypto.ts";

Deno.test("a key authenticates, is stored only as a hash, and shows a prefix", async () => {
  const kv = await Deno.openKv(":memory:");
  const org = await createOrg(kv, { name: "Acme" });
  const { id, key } = await createApiKey(kv, org.id, { name: "ci" }, { nowMs: 1000 });
  assert.match(key, /^pv_[0-9a-f]{64}$/);
  const touches: Promise<unknown>[] = [];
  const auth = await authenticateKey(kv, key, 5000, { waitUntil: (p) => touches.push(p) });
  assert.equal(auth.key.org_id, org.id);
  assert.equal(auth.key.id, id);
  await Promise.all(touches);
  const [listed] = await listApiKeys(kv, org.id);
  assert.equal(listed.prefix, key.slice(0, 11));
  assert.equal(listed.last_used_at, 5000);
  assert.equal(listed.hash, sha256Hex(key));
  for await (const e of kv.list({ prefix: [] })) {
    assert.ok(!JSON.stringify(e.value ?? null).includes(key.slice(3)), "secret stored in KV");
  }
  // Within a minute, no second write of last_used_at.
  await authenticateKey(kv, key, 30_000, { waitUntil: (p) => touches.push(p) });
  assert.equal(touches.length, 1);
  kv.close();
});

Deno.test("unknown, revoked and expired keys are Unauthorized", async () => {
  const kv = await Deno.openKv(":memory:");
  const org = await createOrg(kv, { name: "Acme" });
  const noop = { waitUntil: () => {} };
  await assert.rejects(authenticateKey(kv, "pv_" + "0".repeat(64), 1, noop), Unauthorized);
  await assert.rejects(authenticateKey(kv, "sk_nope", 1, noop), Unauthorized);

  const expiring = await createApiKey(kv, org.id, { name: "tmp", expiresAt: 10_000 });
  const touches: Promise<unknown>[] = [];
  await authenticateKey(kv, expiring.key, 9_999, { waitUntil: (p) => touches.push(p) });
  await Promise.all(touches);
  await assert.rejects(
    authenticateKey(kv, expiring.key, 10_000, noop),
    (e: unknown) => e instanceof Unauthorized && e.message === "API key has expired",
  );

  const revoked = await createApiKey(kv, org.id, { name: "old" });
  await revokeApiKey(kv, org.id, revoked.id, 2);
  await assert.rejects(
    authenticateKey(kv, revoked.key, 3, noop),
    (e: unknown) => e instanceof Unauthorized && e.message !== "API key has expired",
  );
  const keys = await listApiKeys(kv, org.id);
  assert.deepEqual(keys.map((k) => k.name), ["tmp", "old"]);
  assert.equal(keys[1].revoked_at, 2);
  kv.close();
});

Deno.test("records read with the key come back from the same round trip", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const org = await createOrg(kv, { name: "Acme" });
    const { key } = await createApiKey(kv, org.id, { name: "ci" }, { nowMs: 1000 });
    await kv.set(["generations", "gen_x"], { id: "gen_x" });
    const { key: record, also } = await authenticateKey(kv, key, 2000, {
      waitUntil: () => {},
      alsoRead: [["generations", "gen_x"], ["generations", "gen_missing"]],
    });
    assert.equal(record.org_id, org.id);
    assert.deepEqual(also.map((e) => e.value), [{ id: "gen_x" }, null]);
    // A revoked key still fails, whatever else was read with it.
    await revokeApiKey(kv, org.id, record.id, 3000);
    await assert.rejects(
      authenticateKey(kv, key, 4000, { alsoRead: [["generations", "gen_x"]] }),
      Unauthorized,
    );
  } finally {
    kv.close();
  }
});
