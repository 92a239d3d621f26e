import assert from "node:assert/strict";
import { recordHttpRequest, registry } from "./metrics.ts";

const series = (text: string, name: string, route: string) =>
  text.split("\n").filter((l) => l.startsWith(name) && l.includes(`route="${route}"`));

Deno.test("HTTP request metrics: counted per route pattern, method and status, in cumulative buckets", async () => {
  const route = "/metrics-test/:id";
  recordHttpRequest(route, "GET", 200, 0.005); // on a bound: counts in le="0.005"
  recordHttpRequest(route, "GET", 200, 0.3);
  recordHttpRequest(route, "POST", 429, 20); // past the last bound: +Inf only
  const text = await registry.metrics();

  assert.deepEqual(series(text, "pipevideo_http_requests_total", route).sort(), [
    `pipevideo_http_requests_total{route="${route}",method="GET",status="200"} 2`,
    `pipevideo_http_requests_total{route="${route}",method="POST",status="429"} 1`,
  ]);
  const buckets = series(text, "pipevideo_http_request_duration_seconds_bucket", route);
  const at = (le: string) =>
    Number(buckets.find((l) => l.includes(`le="${le}"`))?.split(" ")[1] ?? NaN);
  assert.equal(at("0.005"), 1);
  assert.equal(at("0.25"), 1);
  assert.equal(at("0.5"), 2);
  assert.equal(at("10"), 2);
  assert.equal(at("+Inf"), 3);
  assert.deepEqual(
    series(text, "pipevideo_http_request_duration_seconds_count", route),
    [`pipevideo_http_request_duration_seconds_count{route="${route}"} 3`],
  );
  const sum = series(text, "pipevideo_http_request_duration_seconds_sum", route)[0];
  assert.ok(Math.abs(Number(sum.split(" ")[1]) - 20.305) < 1e-9, sum);
  assert.match(text, /^pipevideo_ratelimit_rejections_total [1-9]/m);

  // A scrape reads the totals; a second one reports the same, not double.
  assert.equal(await registry.metrics(), text);
});

Deno.test("an unmatched path is one series, never the raw path", async () => {
  recordHttpRequest(null, "GET", 404, 0.001);
  const text = await registry.metrics();
  assert.match(
    text,
    /pipevideo_http_requests_total\{route="unmatched",method="GET",status="404"\} [1-9]/,
  );
});
