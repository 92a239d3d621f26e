import assert from "node:assert/strict";
import { LATENCY_BOUNDS_MS, latencyBucket, percentile } from "./usage.ts";

Deno.test("latency buckets are log-spaced and percentiles land in the right bucket", () => {
  assert.equal(latencyBucket(0), 0);
  assert.equal(latencyBucket(100), 0);
  assert.equal(latencyBucket(101), 1);
  assert.equal(latencyBucket(1e12), LATENCY_BOUNDS_MS.length);
  for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
    const ratio = LATENCY_BOUNDS_MS[i] / LATENCY_BOUNDS_MS[i - 1];
    assert.ok(ratio > 1.1 && ratio < 1.3, `bucket ${i}`);
  }
  const buckets = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (let i = 0; i < 90; i++) buckets[latencyBucket(2_000)]++;
  for (let i = 0; i < 10; i++) buckets[latencyBucket(60_000)]++;
  const p50 = percentile(buckets, 0.5);
  const p95 = percentile(buckets, 0.95);
  assert.ok(p50 > 1_600 && p50 <= 2_400, String(p50));
  assert.ok(p95 > 50_000 && p95 <= 72_000, String(p95));
  assert.equal(percentile(new Array(5).fill(0), 0.5), 0);
});
