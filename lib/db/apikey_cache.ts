/**
 * The live API keys a KV handle has recently authenticated, so a poll does not re-read and decode
 * its key on every request. Revocation takes effect within a second on every instance:
 *
 * - the revoking handle forgets every cached key as soon as its revocation commits;
 * - the revocation commit also writes REVOCATION_SIGNAL, which every handle watches: where the
 *   KV delivers watches across instances (KV Connect, Deno Deploy, other handles in the process)
 *   the others forget theirs at once;
 * - every entry lives at most TTL_MS from the start of the read that filled it, which bounds the
 *   rest (separate processes on one SQLite file see no watch events from each other).
 *
 * Expiry needs none of this: expires_at is part of the cached record and checked on every request.
 * Only live keys are cached, so a new key works at once and unknown secrets take no memory.
 */
import { isKvClosed } from "./kv.ts";

export const REVOCATION_SIGNAL: Deno.KvKey = ["apikey_revocations"];
export const TTL_MS = 1000;
/** Past this many live keys the cache starts over rather than tracking which is oldest. */
const MAX_KEYS = 10_000;

export interface CachedKey<K> {
  entry: Deno.KvEntry<K>;
  /** performance.now() when the read that produced `entry` started. */
  readAt: number;
}

/** Generic over the key record, so this module needs nothing from ./apikeys.ts. */
export interface KeyCache<K> {
  get(secret: string): CachedKey<K> | undefined;
  /** A token to pass to `put`: a read that began before a revocation must not be cached. */
  epoch(): number;
  /** Caches the key unless a revocation came since `epoch`; returns the (mutable) entry. */
  put(
    secret: string,
    entry: Deno.KvEntry<K>,
    readAt: number,
    epoch: number,
  ): CachedKey<K> | undefined;
  /** Forgets every key (a revocation somewhere). */
  clear(): void;
}

const caches = new WeakMap<Deno.Kv, KeyCache<unknown>>();

/** The cache of `kv`, created (and its revocation watch started) on first use. */
export function keyCacheFor<K>(kv: Deno.Kv): KeyCache<K> {
  let cache = caches.get(kv) as KeyCache<K> | undefined;
  if (!cache) {
    cache = createKeyCache<K>();
    caches.set(kv, cache as KeyCache<unknown>);
    watchRevocations(kv, cache);
  }
  return cache;
}

// Keyed by the bearer secret the request already carries, so a hit costs no hash; entries hold
// the stored record (with its hash), never anything that reaches KV or a log.
export function createKeyCache<K>(now: () => number = () => performance.now()): KeyCache<K> {
  const keys = new Map<string, CachedKey<K>>();
  let epoch = 0;
  return {
    get(secret) {
      const hit = keys.get(secret);
      if (hit && now() - hit.readAt < TTL_MS) return hit;
      if (hit) keys.delete(secret);
      return undefined;
    },
    epoch: () => epoch,
    put(secret, entry, readAt, readEpoch) {
      if (readEpoch !== epoch) return undefined;
      if (keys.size >= MAX_KEYS) keys.clear();
      const cached = { entry, readAt };
      keys.set(secret, cached);
      return cached;
    },
    clear() {
      epoch++;
      keys.clear();
    },
  };
}

async function watchRevocations<K>(kv: Deno.Kv, cache: KeyCache<K>) {
  try {
    // The first event is the signal's value when the watch starts: clearing then would only
    // drop the fill in flight (a revocation just before it is bounded by the TTL like any other).
    let first = true;
    for await (const _ of kv.watch([REVOCATION_SIGNAL])) {
      if (!first) cache.clear();
      first = false;
    }
  } catch (err) {
    // A closed handle ends the watch; otherwise the TTL still bounds revocation.
    if (!isKvClosed(err)) console.error("api key revocation watch ended", err);
  }
}
