import { monotonicFactory } from "ulid";

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
  | "req";

const ulid = monotonicFactory();

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now)}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`) && id.length === prefix.length + 27;
}
