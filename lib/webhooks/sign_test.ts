import assert from "node:assert/strict";
import { newWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from "./sign.ts";

// The reference vector from the Standard Webhooks libraries' tests ("sign function works").
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  msgId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

Deno.test("signWebhook matches the Standard Webhooks reference vector", async () => {
  assert.equal(
    await signWebhook(SPEC.secret, SPEC.msgId, SPEC.timestamp, SPEC.body),
    SPEC.signature,
  );
});

Deno.test("newWebhookSecret is whsec_ + base64 of 32 random bytes, different each time", () => {
  const a = newWebhookSecret();
  const b = newWebhookSecret();
  assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(a, b);
  assert.equal(newWebhookSecret((n) => new Uint8Array(n)), `whsec_${"A".repeat(43)}=`);
});

Deno.test("webhookHeaders signs once per secret; verifyWebhook accepts each secret", async () => {
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  const h = await webhookHeaders([newSecret, oldSecret], "msg_1", 1_700_000_000, "{}");
  assert.equal(h["webhook-id"], "msg_1");
  assert.equal(h["webhook-timestamp"], "1700000000");
  assert.equal(h["webhook-signature"].split(" ").length, 2);
  assert.equal(await verifyWebhook(newSecret, h, "{}", 1_700_000_000), true);
  assert.equal(await verifyWebhook(oldSecret, new Headers(h), "{}", 1_700_000_000), true);
  assert.equal(await verifyWebhook(newWebhookSecret(), h, "{}", 1_700_000_000), false);
});

Deno.test("verifyWebhook refuses tampering, stale or future timestamps, missing headers", async () => {
  const headers = {
    "Webhook-Id": SPEC.msgId,
    "Webhook-Timestamp": String(SPEC.timestamp),
    "Webhook-Signature": `v1,bogus ${SPEC.signature}`,
  };
  const now = SPEC.timestamp + 10;
  assert.equal(await verifyWebhook(SPEC.secret, headers, SPEC.body, now), true);
  assert.equal(await verifyWebhook(SPEC.secret, headers, SPEC.body + " ", now), false);
  assert.equal(
    await verifyWebhook(SPEC.secret, { ...headers, "Webhook-Id": "msg_other" }, SPEC.body, now),
    false,
  );
  assert.equal(await verifyWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp + 301), false);
  assert.equal(await verifyWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp - 301), false);
  assert.equal(await verifyWebhook(SPEC.secret, headers, SPEC.body, now, 5), false);
  const noSig = { "webhook-id": SPEC.msgId, "webhook-timestamp": String(SPEC.timestamp) };
  assert.equal(await verifyWebhook(SPEC.secret, noSig, SPEC.body, now), false);
  const v2Only = { ...headers, "Webhook-Signature": SPEC.signature.replace("v1,", "v2,") };
  assert.equal(await verifyWebhook(SPEC.secret, v2Only, SPEC.body, now), false);
});
