import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";

/** SHA-256 of a secret as hex: how keys, sessions and links are found without storing them. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * `bytes` random bytes as hex after `prefix`: session, invite and API key secrets, form tokens.
 * 32 bytes (256 bits) for anything that grants access.
 */
export function randomToken(bytes: number, prefix = ""): string {
  return prefix + Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

/** HMAC-SHA256, synchronous: signing a URL on a hot path needs no async key import. */
export function hmacSha256(key: string, message: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(message).digest());
}

/** Standard Webhooks signing secrets (lib/webhooks/sign.ts) start with this. */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(
  randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): string {
  return WEBHOOK_SECRET_PREFIX + Buffer.from(randomBytes(32)).toString("base64");
}
