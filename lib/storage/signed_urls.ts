/** Signed, expiring video URLs (DESIGN.md, "Storage and URLs"). */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { hmacSha256 } from "../crypto.ts";
import { checkGenId, GEN_ID } from "./local.ts";

function videoHmac(secretKey: string, genId: string, exp: number): Uint8Array {
  // The "video:" prefix keeps these MACs apart from anything else SECRET_KEY signs.
  return hmacSha256(secretKey, `video:${genId}:${exp}`);
}

// Signed URLs change once an hour per generation, and clients poll every second or so: the
// same URL is asked for again and again. A bounded memo spares the HMAC on the poll path.
const signedUrls = new Map<string, string>();
const SIGNED_URL_MEMO = 10_000;

/** A link to the stored video that works without an API key until `expiresAtSec`. */
// deno-lint-ignore require-await
export async function signVideoUrl(
  publicUrl: string,
  secretKey: string,
  genId: string,
  expiresAtSec: number,
): Promise<string> {
  const memoKey = `${genId}|${expiresAtSec}|${publicUrl}|${secretKey}`;
  const known = signedUrls.get(memoKey);
  if (known) return known;
  checkGenId(genId);
  if (!Number.isSafeInteger(expiresAtSec) || expiresAtSec < 0) {
    throw new Error(`Invalid expiry: ${expiresAtSec}`);
  }
  const sig = Buffer.from(videoHmac(secretKey, genId, expiresAtSec)).toString("base64url");
  const url = `${
    publicUrl.replace(/\/+$/, "")
  }/files/videos/${genId}.mp4?exp=${expiresAtSec}&sig=${sig}`;
  if (signedUrls.size >= SIGNED_URL_MEMO) signedUrls.delete(signedUrls.keys().next().value!);
  signedUrls.set(memoKey, url);
  return url;
}

/** True when `sig` was made by signVideoUrl for this id and expiry and it has not expired. */
// deno-lint-ignore require-await
export async function verifyVideoSignature(
  secretKey: string,
  genId: string,
  exp: string | number | null,
  sig: string | null,
  nowSec: number,
): Promise<boolean> {
  if (!GEN_ID.test(genId) || exp === null || sig === null) return false;
  if (!/^\d{1,15}$/.test(String(exp))) return false;
  const expSec = Number(exp);
  if (nowSec > expSec) return false;
  if (!/^[A-Za-z0-9_-]{43}$/.test(sig)) return false;
  const given = Buffer.from(sig, "base64url");
  const expected = videoHmac(secretKey, genId, expSec);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
