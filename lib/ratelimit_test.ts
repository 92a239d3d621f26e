import assert from "node:assert/strict";
import { createRateLimiter, rateLimitHeaders } from "./ratelimit.ts";
import { openKv } from "./db/kv.ts";

/** Runs `f` n times one after another and collects the results. */
async function seq<T>(n: number, f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}
import { RateLimited } from "./errors.ts";

Deno.test("allows the limit per key per minute, then refuses with retry-after", async () => {
  let t = 1_800_000_000_000; // a window boundary
  const rl = createRateLimiter({ limit: 3, now: () => t });
  assert.deepEqual(await seq(3, async () => (await rl.check("a")).remaining), [2, 1, 0]);
  const refused = await rl.check("a");
  assert.equal(refused.allowed, false);
  assert.equal(refused.resetAt, t / 1000 + 60);
  assert.equal(refused.retryAfter, 60);
  assert.equal((await rl.check("b")).allowed, true); // keys are independent
  const err = new RateLimited(refused.retryAfter, rateLimitHeaders(refused));
  assert.equal(err.headers["Retry-After"], "60");
  assert.equal(err.headers["X-RateLimit-Remaining"], "0");
  assert.deepEqual(err.data, { retry_after: 60 });
  // Sliding: halfway into the next window half of the previous window still counts.
  t += 90_000;
  assert.equal((await rl.check("a")).allowed, true); // 3·0.5 + 0 + 1 ≤ 3
  assert.equal((await rl.check("a")).allowed, false); // 1.5 + 1 + 1 > 3
  t += 30_000;
  assert.equal((await rl.check("a")).allowed, true); // a fresh window two minutes on
});

Deno.test("idle keys are evicted once the map is full", async () => {
  let t = 0;
  const rl = createRateLimiter({ limit: 1, now: () => t, maxKeys: 2 });
  await rl.check("a");
  await rl.check("b");
  t += 180_000;
  assert.equal(rl.size(), 2);
  await rl.check("c");
  assert.equal(rl.size(), 1);
});

Deno.test("three processes sharing one KV hold the limit together, within 10% plus a second's worth", async () => {
  const kv = await Deno.openKv(":memory:");
  let t = 1_800_000_000_000 + 5_000; // just past a window boundary
  const limiters = [0, 1, 2].map(() =>
    createRateLimiter({ limit: 100, now: () => t, shared: { kv, syncClock: () => t } })
  );
  try {
    // Each has registered, and knows the others are live.
    for (let i = 0; i < 2; i++) await Promise.all(limiters.map((l) => l.sync()));
    // A client sends 40 requests a second to each of the three for two minutes.
    const admittedAt: number[] = [];
    for (let second = 0; second < 120; second++) {
      for (let i = 0; i < 40; i++) {
        for (const l of limiters) if ((await l.check("key_1")).allowed) admittedAt.push(t);
      }
      t += 1_000;
      // What the background does about once a second (each check past a second starts one).
      await Promise.all(limiters.map((l) => l.sync()));
    }
    // No 60 s span admits more than the limit + 10% + one second's worth (100/60).
    let worst = 0;
    for (const start of admittedAt) {
      worst = Math.max(worst, admittedAt.filter((a) => a >= start && a < start + 60_000).length);
    }
    console.log(`busiest minute: ${worst} admitted`);
    assert.ok(worst <= 110 + 2, `${worst} admitted in one minute`);
    // And the limit is not starved: most of it is usable.
    assert.ok(worst >= 90, `only ${worst} admitted in the busiest minute`);
    // A single process alone keeps the old behaviour: its whole limit at once.
    const own = await Deno.openKv(":memory:");
    const alone = createRateLimiter({ limit: 5, now: () => t, shared: { kv: own } });
    assert.deepEqual(await seq(6, async () => (await alone.check("k")).allowed), [
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    own.close();
  } finally {
    kv.close();
  }
});

Deno.test("a burst the limit allows on a key new to two live instances is admitted, and a larger one is held to the limit", async () => {
  const kv = await Deno.openKv(":memory:");
  let t = 1_800_000_000_000 + 5_000;
  const pair = () =>
    [0, 1].map(() =>
      createRateLimiter({ limit: 100, now: () => t, shared: { kv, syncClock: () => t } })
    );
  try {
    const [a, b] = pair();
    // Both are live and know each other; neither has seen "fresh" yet (its cold share is 6).
    for (let i = 0; i < 2; i++) await Promise.all([a.sync(), b.sync()]);
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).check("fresh")),
    );
    assert.equal(burst.filter((r) => r.allowed).length, 40);

    // Far past the limit, at once on both: the two together admit no more than the limit.
    t += 10 * 60_000;
    const [c, d] = pair();
    for (let i = 0; i < 2; i++) await Promise.all([c.sync(), d.sync()]);
    const flood = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (i % 2 ? c : d).check("other")),
    );
    const admitted = flood.filter((r) => r.allowed).length;
    assert.ok(admitted <= 100 && admitted >= 40, `${admitted} admitted`);
    assert.ok(flood.filter((r) => !r.allowed).every((r) => r.retryAfter >= 1));
  } finally {
    kv.close();
  }
});

Deno.test("a sync of more keys than one denokv write takes is split, not refused", async () => {
  const kv = await openKv(":memory:");
  const errors: unknown[] = [];
  const t = 1_800_000_000_000 + 5_000;
  const rl = createRateLimiter({
    limit: 100,
    now: () => t,
    shared: { kv, syncClock: () => t, log: (_m, err) => errors.push(err) },
  });
  try {
    for (let i = 0; i < 1_200; i++) await rl.check(`key_${i}`);
    await rl.sync(); // the one the first check started
    await rl.sync(); // the other 1,199 keys
    assert.deepEqual(errors, []);
    let rows = 0;
    for await (const _ of kv.list({ prefix: ["ratelimit"] })) rows++;
    assert.equal(rows, 1_200);
  } finally {
    kv.close();
  }
});
