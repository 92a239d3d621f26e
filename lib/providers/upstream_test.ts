import assert from "node:assert/strict";
import { isRetryableStatus, parseRetryAfter, redact, upstreamMessage } from "./upstream.ts";

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

Deno.test("parseRetryAfter: seconds, HTTP-date, past date, garbage", () => {
  assert.equal(parseRetryAfter("120", NOW), 120_000);
  assert.equal(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW), 5000);
  assert.equal(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW), 0);
  assert.equal(parseRetryAfter("soon", NOW), undefined);
  assert.equal(parseRetryAfter(null, NOW), undefined);
});

Deno.test("isRetryableStatus: 429/5xx yes, 400/401/403/404/422 no", () => {
  for (const s of [429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, `${s}`);
  for (const s of [400, 401, 403, 404, 422]) assert.equal(isRetryableStatus(s), false, `${s}`);
});

Deno.test("upstreamMessage: each provider's error shape", () => {
  assert.equal(upstreamMessage({ error: { code: 429, message: "quota" } }), "quota");
  assert.equal(
    upstreamMessage({ error: "Bad", issues: [{ path: ["ratio"], message: "no" }] }),
    "Bad (ratio: no)",
  );
  assert.equal(
    upstreamMessage({ detail: [{ loc: ["body", "prompt"], msg: "flagged" }] }),
    "prompt: flagged",
  );
  assert.equal(upstreamMessage({ title: "Throttled", detail: "resets in 9s" }), "resets in 9s");
  assert.equal(upstreamMessage(""), undefined);
});

Deno.test("redact: removes the secret everywhere and caps length", () => {
  assert.equal(
    redact("key sk-123456 and sk-123456", ["sk-123456"]),
    "key [redacted] and [redacted]",
  );
  assert.ok(redact("x".repeat(2000), []).length <= 501);
});
