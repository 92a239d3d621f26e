import { Buffer } from "node:buffer";

/**
 * Secrets we must be able to read back (webhook signing secrets, sign-in state) are stored
 * sealed: AES-256-GCM under a key derived from SECRET_KEY with HKDF-SHA256 (WebCrypto). A sealed
 * value is `pvenc:v1:<key id>:<base64url(iv ‖ ciphertext)>`; the key id (also from HKDF) says
 * which SECRET_KEY sealed it, so values sealed under a previous key (SECRET_KEY_PREVIOUS) still
 * open while `deno task secrets reseal` moves them to the current one (docs/security.md).
 */
export interface SecretBox {
  seal(plaintext: string): Promise<string>;
  /** Opens a sealed value; anything not sealed (a value stored before sealing) as it is. */
  open(stored: string): Promise<string>;
  /** True when `stored` is sealed under the current key (nothing to migrate). */
  isCurrent(stored: string): boolean;
}

const PREFIX = "pvenc:v1:";
const encoder = new TextEncoder();

interface DerivedKey {
  id: string;
  key: CryptoKey;
}

async function deriveKey(secretKey: string): Promise<DerivedKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(secretKey), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = (info: string, length: number) =>
    crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: encoder.encode("pipevideo"),
        info: encoder.encode(info),
      },
      base,
      length,
    );
  const [raw, id] = await Promise.all([bits("secret-box/aes-gcm", 256), bits("secret-box/id", 48)]);
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { id: Buffer.from(id).toString("hex"), key };
}

const boxes = new Map<string, SecretBox>();

/** The box for `current` (seals) and `previous` keys (open only); one per key set per process. */
export function secretBox(current: string, previous: string[] = []): SecretBox {
  const cacheKey = JSON.stringify([current, previous]);
  let box = boxes.get(cacheKey);
  if (!box) boxes.set(cacheKey, box = createSecretBox(current, previous));
  return box;
}

/**
 * A box of its own, not cached: for short-lived keys such as a session's cookie token (one-time
 * reveals, lib/db/flash.ts), which must not pile up in the cache above.
 */
export function createSecretBox(current: string, previous: string[] = []): SecretBox {
  const keys = Promise.all([current, ...previous].map(deriveKey));
  let currentId: string | null = null;
  keys.then((k) => currentId = k[0].id, () => {});
  return {
    async seal(plaintext) {
      const [k] = await keys;
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv },
        k.key,
        encoder.encode(plaintext),
      );
      const packed = Buffer.concat([Buffer.from(iv), Buffer.from(ct)]).toString("base64url");
      return `${PREFIX}${k.id}:${packed}`;
    },
    async open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, packed] = stored.slice(PREFIX.length).split(":");
      const k = (await keys).find((k) => k.id === id);
      if (!k) throw new Error(`No SECRET_KEY for sealed value ${id}: set SECRET_KEY_PREVIOUS`);
      const bytes = Buffer.from(packed, "base64url");
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.subarray(0, 12) },
        k.key,
        bytes.subarray(12),
      );
      return new TextDecoder().decode(pt);
    },
    isCurrent(stored) {
      return currentId !== null && stored.startsWith(`${PREFIX}${currentId}:`);
    },
  };
}

/** The box for a configuration: SECRET_KEY seals, SECRET_KEY_PREVIOUS (comma-separated) opens. */
export function configSecretBox(config: { secretKey: string; SECRET_KEY_PREVIOUS?: string }) {
  const previous = (config.SECRET_KEY_PREVIOUS ?? "").split(",").map((s) => s.trim())
    .filter(Boolean);
  return secretBox(config.secretKey, previous);
}
