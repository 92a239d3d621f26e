/**
 * The shared rate limiter's rows (lib/ratelimit.ts):
 *   ["ratelimit", key, windowStart, instance] -> CountRow: one process's count and allowance
 *   ["ratelimit_peers", instance]             -> last sync (sync clock): the live processes
 */

/** One process's row for one key and window. */
export interface CountRow {
  n: number;
  allow: number;
  at: number;
}

export const countKey = (key: string, windowStart: number, instance: string): Deno.KvKey => [
  "ratelimit",
  key,
  windowStart,
  instance,
];
export const countPrefix = (key: string): Deno.KvKey => ["ratelimit", key];
export const PEERS: Deno.KvKey = ["ratelimit_peers"];
