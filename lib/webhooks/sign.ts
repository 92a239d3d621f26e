import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";

/**
 * Standard Webhooks signatures (standardwebhooks.com), so receivers can use any of its libraries:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, key = base64 after `whsec_`.
 */

import { WEBHOOK_SECRET_PREFIX as PREFIX } from "../crypto.ts";

export { newWebhookSecret } from "../crypto.ts";
const encoder = new TextEncoder();

function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const raw = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  const bytes = Buffer.from(raw, "base64");
  if (bytes.length === 0) throw new Error("Webhook secret is empty or not base64");
  return new Uint8Array(bytes);
}

async function hmacSha256(key: Uint8Array<ArrayBuffer>, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

/** `v1,<base64 signature>` of one message under one secret. */
export async function signWebhook(
  secret: string,
  msgId: string,
  timestampSec: number,
  body: string,
): Promise<string> {
  const mac = await hmacSha256(secretKeyBytes(secret), `${msgId}.${timestampSec}.${body}`);
  return `v1,${Buffer.from(mac).toString("base64")}`;
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  [name: string]: string;
}

/** The three headers; one signature per secret, so receivers on either side of a rotation pass. */
export async function webhookHeaders(
  secrets: string[],
  msgId: string,
  timestampSec: number,
  body: string,
): Promise<WebhookHeaders> {
  if (secrets.length === 0) throw new Error("At least one webhook secret is needed to sign");
  const signatures = await Promise.all(
    secrets.map((s) => signWebhook(s, msgId, timestampSec, body)),
  );
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": signatures.join(" "),
  };
}

function header(headers: Headers | Record<string, string>, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? null : headers[key];
}

/**
 * For receivers (and our tests): true when the timestamp is within `toleranceSec` of `nowSec`
 * and one of the `v1` signatures matches `secret`. Compares in constant time.
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers | Record<string, string>,
  body: string,
  nowSec: number,
  toleranceSec = 300,
): Promise<boolean> {
  const msgId = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!msgId || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  const ts = Number(timestamp);
  if (Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from((await signWebhook(secret, msgId, ts, body)).slice(3), "base64");
  let matched = false;
  for (const candidate of signatures.split(" ")) {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    // Check every candidate, so the time taken does not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}
