import assert from "node:assert/strict";
import { createRateLimiter, rateLimitHeaders } from "./ratelimit.ts";
import { RateLimited } from "./errors.ts";

Deno.test("allows the limit per key per minute, then refuses with retry-after", () => {
  let t = 1_800_000_000_000; // a window boundary
  const rl = createRateLimiter({ limit: 3, now: () => t });
  assert.deepEqual([1, 2, 3].map(() => rl.check("a").remaining), [2, 1, 0]);
  const refused = rl.check("a");
  assert.equal(refused.allowed, false);
  assert.equal(refused.resetAt, t / 1000 + 60);
  assert.equal(refused.retryAfter, 60);
  assert.equal(rl.check("b").allowed, true); // keys are independent
  const err = new RateLimited(refused.retryAfter, rateLimitHeaders(refused));
  assert.equal(err.headers["Retry-After"], "60");
  assert.equal(err.headers["X-RateLimit-Remaining"], "0");
  assert.deepEqual(err.data, { retry_after: 60 });
  // Sliding: halfway into the next window half of the previous window still counts.
  t += 90_000;
  assert.equal(rl.check("a").allowed, true); // 3·0.5 + 0 + 1 ≤ 3
  assert.equal(rl.check("a").allowed, false); // 1.5 + 1 + 1 > 3
  t += 30_000;
  assert.equal(rl.check("a").allowed, true); // a fresh window two minutes on
});

Deno.test("idle keys are evicted once the map is full", () => {
  let t = 0;
  const rl = createRateLimiter({ limit: 1, now: () => t, maxKeys: 2 });
  rl.check("a");
  rl.check("b");
  t += 180_000;
  assert.equal(rl.size(), 2);
  rl.check("c");
  assert.equal(rl.size(), 1);
});
