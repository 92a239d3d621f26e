import { encodeTime, monotonicFactory } from "ulid";

/** Every id is a type prefix and a ULID, so KV prefix lists come out in creation order. */
export type IdPrefix =
  | "gen"
  | "org"
  | "key"
  | "usr"
  | "led"
  | "evt"
  | "whe"
  | "whd"
  | "inv"
  | "ses"
  | "ops"
  | "req";

/**
 * ulid's default randomness asks the CSPRNG for one byte per character (16 calls per id, one id
 * per request at least); the same bytes are drawn here from a pool refilled 4 KiB at a time.
 */
const pool = new Uint8Array(4096);
let drawn = pool.length;
function randomFraction(): number {
  if (drawn === pool.length) {
    crypto.getRandomValues(pool);
    drawn = 0;
  }
  return pool[drawn++] / 256;
}

const ulid = monotonicFactory(randomFraction);

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now)}`;
}

/** The smallest id of this type made at `ms`: ids below it were made earlier (a list bound). */
export function idFloor(prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(ms, 10)}${"0".repeat(16)}`;
}

/** A ULID: 26 characters of Crockford's base32 (no I, L, O, U), as `ulid` writes them. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * True when `s` is shaped like an id of this type. Checked before an id from a URL reaches KV,
 * where an over-long key is an error (a 500) rather than a miss.
 */
export function isId(prefix: IdPrefix, s: string): boolean {
  return s.length === prefix.length + 27 && s.startsWith(`${prefix}_`) &&
    ULID.test(s.slice(prefix.length + 1));
}

/** The smallest id of this type made at `ms`: a bound for time-range scans of id-keyed lists. */
export function idAt(prefix: IdPrefix, ms: number): string {
  return `${prefix}_${encodeTime(Math.max(0, Math.floor(ms)), 10)}`;
}
