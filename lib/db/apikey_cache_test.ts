import assert from "node:assert/strict";
import { Unauthorized } from "../errors.ts";
import { openKv } from "./kv.ts";
import { createOrg } from "./orgs.ts";
import { type ApiKey, authenticateKey, createApiKey, revokeApiKey } from "./apikeys.ts";
import { createKeyCache, keyCacheFor, TTL_MS } from "./apikey_cache.ts";

const noTouch = { waitUntil: () => {} };
const refused = (kv: Deno.Kv, secret: string, nowMs = Date.now()) =>
  authenticateKey(kv, secret, nowMs, noTouch).then(() => false, (err) => {
    if (!(err instanceof Unauthorized)) throw err;
    return true;
  });

/**
 * `kv` whose watches never deliver (a slow remote watch, or another process on a SQLite file):
 * what is left is the revoking handle's own invalidation and the TTL.
 */
function deaf(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "watch") return () => new ReadableStream();
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Two handles on one database file, as two instances of the app open it; neither hears watches. */
async function twoInstances() {
  const dir = await Deno.makeTempDir();
  const first = deaf(await openKv(`${dir}/kv.sqlite`));
  const second = deaf(await openKv(`${dir}/kv.sqlite`));
  const org = await createOrg(first, { name: "Acme" });
  return {
    first,
    second,
    org,
    async [Symbol.asyncDispose]() {
      first.close();
      second.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a revoked key is refused at once by the revoking instance, within a second by another", async () => {
  await using db = await twoInstances();
  const { id, key } = await createApiKey(db.first, db.org.id, { name: "ci" });
  await db.first.set(["generations", "gen_x"], { id: "gen_x" });
  // Both instances have the key cached; a cached hit still reads the request's record.
  for (const kv of [db.first, db.second, db.first, db.second]) {
    const { also } = await authenticateKey(kv, key, Date.now(), {
      ...noTouch,
      alsoRead: [["generations", "gen_x"]],
    });
    assert.deepEqual(also.map((e) => e.value), [{ id: "gen_x" }]);
  }

  await revokeApiKey(db.first, db.org.id, id);
  const revokedAt = performance.now();
  assert.ok(await refused(db.first, key), "the revoking instance still accepted the key");
  for (;;) {
    const askedAt = performance.now();
    if (await refused(db.second, key)) break;
    assert.ok(askedAt - revokedAt < TTL_MS, "accepted a second after revocation");
  }
  assert.ok(TTL_MS <= 1000);
});

Deno.test("where watches are delivered, another instance refuses a revoked key at once", async () => {
  const dir = await Deno.makeTempDir();
  const first = await openKv(`${dir}/kv.sqlite`);
  const second = await openKv(`${dir}/kv.sqlite`);
  try {
    const org = await createOrg(first, { name: "Acme" });
    const { id, key } = await createApiKey(first, org.id, { name: "ci" }, { nowMs: 1000 });
    await authenticateKey(second, key, 2000, noTouch);
    // The cache's own watch clears it (a new epoch); the TTL alone never does. Waited for as a
    // condition, not timed: on a loaded machine a watch event may take a while to arrive.
    const cache = keyCacheFor(second);
    const before = cache.epoch();
    await revokeApiKey(first, org.id, id, 3000);
    const end = Date.now() + 10_000;
    while (cache.epoch() === before) {
      assert.ok(Date.now() < end, "the watch did not clear the cache");
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(await refused(second, key, 4000));
  } finally {
    first.close();
    second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an expired key is refused by every instance as soon as it expires", async () => {
  await using db = await twoInstances();
  const expiresAt = 10_000;
  const { key } = await createApiKey(db.first, db.org.id, { name: "tmp", expiresAt }, {
    nowMs: 1000,
  });
  // Cached by both while still valid (the check below is the clock's, not the cache's).
  for (const kv of [db.first, db.second]) {
    await authenticateKey(kv, key, expiresAt - 1, noTouch);
  }
  for (const kv of [db.first, db.second]) {
    await assert.rejects(
      authenticateKey(kv, key, expiresAt, noTouch),
      (e: unknown) => e instanceof Unauthorized && e.message === "API key has expired",
    );
  }
});

Deno.test("a cached key is kept for under a second, and a read older than a revocation is not cached", () => {
  let now = 0;
  const cache = createKeyCache(() => now);
  const entry = {
    key: ["apikey_by_hash", "h"],
    value: { id: "key_1" } as ApiKey,
    versionstamp: "1",
  } satisfies Deno.KvEntry<ApiKey>;
  cache.put("pv_a", entry, 0, cache.epoch());
  now = TTL_MS - 1;
  assert.equal(cache.get("pv_a")?.entry, entry);
  now = TTL_MS;
  assert.equal(cache.get("pv_a"), undefined);

  // A read started, then a revocation somewhere cleared the cache: that read's result is stale.
  const epoch = cache.epoch();
  cache.clear();
  assert.equal(cache.put("pv_a", entry, now, epoch), undefined);
  assert.equal(cache.get("pv_a"), undefined);
});
