import { RateLimited } from "./errors.ts";
import type { Services } from "./services.ts";
import { randomToken } from "./crypto.ts";
import { countKey, countPrefix, type CountRow, PEERS } from "./db/ratelimit.ts";

/**
 * Per-key request limits with no KV round trip on the request path in the steady state: a sliding window estimated
 * from the current and previous fixed windows, as Cloudflare and others do. With `shared`, the
 * limit holds across every process on one KV (docs/scale-out.md, "Rate limits"): about once a
 * second each process publishes its count per key and window together with an allowance (its
 * part of the headroom, reserved until its next sync), reads the others' rows, and admits at
 * most its allowance until the next sync. A process's rows bound what it can have admitted, so
 * the allowances never add up to more than the limit. A request that only this process's
 * allowance would refuse (a key new to it, an allowance lapsed or spent) waits for a sync instead
 * (at most one per key every quarter second), so a burst the limit allows is not refused because
 * the process had not yet been granted its part.
 */

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds when the current window ends. */
  resetAt: number;
  /** Seconds to wait before a retry is likely to pass (0 when allowed). */
  retryAfter: number;
}

export interface RateLimiter {
  check(key: string): Promise<RateLimitResult>;
  /** How many keys are tracked (memory use). */
  size(): number;
  /** Shares this process's counts and reads the others' now (normally done in the background). */
  sync(): Promise<void>;
}

interface Counter {
  windowStart: number;
  /** Admitted by this process in the current and the previous window. */
  mine: number;
  minePrevious: number;
  /** Admitted by the other processes, as of their rows at the last sync. */
  others: number;
  othersPrevious: number;
  /** Admitted since the allowance was granted, and the allowance (Infinity when alone). */
  sinceSync: number;
  share: number;
  /** The allowance lapses then (sync clock): a process that stops syncing falls back to cold. */
  shareUntil: number;
  /** When a refused request last asked for a sync (sync clock). */
  askedAt: number;
}

export function createRateLimiter(opts: {
  limit?: number;
  windowMs?: number;
  now?: () => number;
  /** Past this many keys, counters of idle keys are dropped. */
  maxKeys?: number;
  /** Share counts through this KV with every process using it; `syncClock` paces the syncs. */
  shared?: {
    kv: Deno.Kv;
    syncMs?: number;
    syncClock?: () => number;
    log?: (msg: string, err: unknown) => void;
  };
} = {}): RateLimiter {
  const limit = opts.limit ?? 100;
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const counters = new Map<string, Counter>();
  const shared = opts.shared;
  const syncMs = shared?.syncMs ?? 1_000;
  const syncClock = shared?.syncClock ?? Date.now;
  /** An allowance is good for this long; a row older than this no longer reserves anything. */
  const allowanceMs = 2 * syncMs;
  const instance = randomToken(8);
  const touched = new Set<string>();
  // The first request syncs at once, so this process is counted among the live ones early.
  let lastSync = -Infinity;
  /** Live processes on this KV (this one included), as of the last sync. */
  let peers = 1;
  let syncing: Promise<void> | null = null;

  /**
   * What a process may admit for a key without a current allowance: alone, the whole limit;
   * among others, its part of 10% of the limit plus one second's worth. Others count a peer
   * without a fresh row as holding this much.
   */
  function coldShare() {
    if (peers <= 1) return Infinity;
    return Math.max(1, Math.ceil((0.1 * limit + limit * syncMs / windowMs) / peers));
  }

  function roll(c: Counter, windowStart: number) {
    if (c.windowStart === windowStart) return;
    const adjacent = windowStart - c.windowStart === windowMs;
    c.minePrevious = adjacent ? c.mine : 0;
    c.othersPrevious = adjacent ? c.others : 0;
    c.mine = c.others = 0;
    c.windowStart = windowStart;
    // The allowance carries over: the sliding count it was granted against is continuous.
  }

  function evictIdle(windowStart: number) {
    for (const [k, c] of counters) {
      if (windowStart - c.windowStart > windowMs) counters.delete(k);
    }
  }

  async function sync(): Promise<void> {
    if (!shared) return;
    const keys = [...touched];
    touched.clear();
    const at = syncClock();
    const t = now();
    const windowStart = t - (t % windowMs);
    // Registered before counting, so of two processes starting together one sees the other.
    await shared.kv.set([...PEERS, instance], at, { expireIn: Math.max(10 * syncMs, 5_000) });
    let live = 0;
    for await (const _ of shared.kv.list({ prefix: PEERS })) live++;
    peers = Math.max(1, live);
    const rows: [Deno.KvKey, CountRow][] = [];
    const granted = new Map<string, { share: number; mineAt: number }>();
    await Promise.all(keys.map(async (key) => {
      const c = counters.get(key);
      if (!c) return;
      roll(c, windowStart);
      let others = 0, othersPrevious = 0, reserved = 0, fresh = 0;
      for await (const e of shared.kv.list<CountRow>({ prefix: countPrefix(key) })) {
        const [, , w, who] = e.key;
        if (who === instance) continue;
        if (w === windowStart - windowMs) othersPrevious += e.value.n;
        if (w !== windowStart) continue;
        others += e.value.n;
        if (at - e.value.at < allowanceMs) {
          reserved += e.value.allow;
          fresh++;
        }
      }
      reserved += Math.max(0, peers - 1 - fresh) * coldShare();
      c.others = others;
      c.othersPrevious = othersPrevious;
      const elapsed = (t - windowStart) / windowMs;
      const used = (c.minePrevious + othersPrevious) * (1 - elapsed) + c.mine + others + reserved;
      // Alone, the whole headroom; among others, an equal part of what nobody has reserved.
      const share = peers <= 1 ? Infinity : Math.max(0, Math.floor((limit - used) / peers));
      granted.set(key, { share, mineAt: c.mine });
      const row: CountRow = { n: c.mine, allow: Number.isFinite(share) ? share : limit, at };
      rows.push([countKey(key, windowStart, instance), row]);
      if (c.minePrevious) {
        const prev: CountRow = { n: c.minePrevious, allow: 0, at };
        rows.push([countKey(key, windowStart - windowMs, instance), prev]);
      }
    }));
    // The allowance is used only once it is published: a reader then sees it reserved.
    // In commits of at most 500 rows (denokv takes 1,000 mutations and 800 KB per write).
    for (let i = 0; i < rows.length; i += 500) {
      const a = shared.kv.atomic();
      for (const [k, row] of rows.slice(i, i + 500)) a.set(k, row, { expireIn: 3 * windowMs });
      await a.commit();
    }
    for (const [key, g] of granted) {
      const c = counters.get(key);
      if (!c || c.windowStart !== windowStart) continue;
      c.share = g.share;
      c.sinceSync = c.mine - g.mineAt; // admitted while this sync ran
      c.shareUntil = at + allowanceMs;
    }
    lastSync = at;
  }

  function runSync(): Promise<void> {
    const run: Promise<void> = sync()
      .catch((err) => shared?.log?.("rate limit sync failed; counting locally until the next", err))
      .finally(() => {
        if (syncing === run) syncing = null;
      });
    return run;
  }

  function maybeSync() {
    if (!shared || syncing || syncClock() - lastSync < syncMs) return;
    lastSync = syncClock();
    syncing = runSync();
  }

  return {
    size: () => counters.size,
    sync: () => syncing ?? sync(),
    async check(key) {
      const first = evaluate(key);
      if (first.allowed || !shared || first.overLimit) return first.result;
      // Refused by this process's allowance alone: a fresh sync decides, not a stale share.
      if (syncing) {
        await syncing;
        const again = evaluate(key);
        if (again.allowed || again.overLimit) return again.result;
      }
      const c = counters.get(key)!;
      if (syncClock() - c.askedAt < syncMs / 4) return first.result;
      c.askedAt = syncClock();
      touched.add(key);
      lastSync = syncClock();
      await (syncing = runSync());
      return evaluate(key).result;
    },
  };

  function evaluate(
    key: string,
  ): { allowed: boolean; overLimit: boolean; result: RateLimitResult } {
    const t = now();
    const windowStart = t - (t % windowMs);
    let c = counters.get(key);
    if (!c) {
      if (counters.size >= maxKeys) evictIdle(windowStart);
      c = {
        windowStart,
        mine: 0,
        minePrevious: 0,
        others: 0,
        othersPrevious: 0,
        sinceSync: 0,
        share: 0,
        shareUntil: -Infinity,
        askedAt: -Infinity,
      };
      counters.set(key, c);
    }
    roll(c, windowStart);
    if (shared) {
      touched.add(key);
      maybeSync();
    }
    const budget = syncClock() < c.shareUntil ? c.share : coldShare();
    const elapsed = (t - windowStart) / windowMs;
    const previous = c.minePrevious + c.othersPrevious;
    const current = c.mine + c.others;
    const weighted = previous * (1 - elapsed) + current;
    const resetAt = Math.ceil((windowStart + windowMs) / 1000);
    const overLimit = weighted + 1 > limit;
    if (overLimit || c.sinceSync + 1 > budget) {
      // When will the weighted count drop below the limit? Solve previous·(1−x) + current < limit.
      let waitMs = windowStart + windowMs - t;
      if (current + 1 <= limit && previous > 0) {
        const x = 1 - (limit - 1 - current) / previous;
        waitMs = Math.max(0, windowStart + x * windowMs - t);
      }
      // Over this process's allowance only: the next sync (a second) brings a fresh one.
      if (!overLimit) waitMs = syncMs;
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      return {
        allowed: false,
        overLimit,
        result: { allowed: false, limit, remaining: 0, resetAt, retryAfter },
      };
    }
    c.mine++;
    c.sinceSync++;
    const remaining = Math.max(0, Math.floor(limit - weighted - 1));
    return {
      allowed: true,
      overLimit,
      result: { allowed: true, limit, remaining, resetAt, retryAfter: 0 },
    };
  }
}

/** The X-RateLimit-* headers of a result (Retry-After is added by RateLimited). */
export function rateLimitHeaders(r: RateLimitResult): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(r.limit),
    "X-RateLimit-Remaining": String(r.remaining),
    "X-RateLimit-Reset": String(r.resetAt),
  };
}

// One request limiter per app instance (tests run several apps in one process).
const requestLimiters = new WeakMap<Services, RateLimiter>();

/**
 * Counts one request of `subject` (an API key id, or `org:<id>` for the playground) against
 * RATE_LIMIT_PER_MINUTE across every process on this KV, with no KV call on the request path
 * (counts are shared in the background about once a second). Over the limit it throws
 * RateLimited (429 with Retry-After); otherwise it returns the X-RateLimit-* headers.
 */
export async function enforceRequestLimit(
  services: Services,
  subject: string,
): Promise<Record<string, string>> {
  let limiter = requestLimiters.get(services);
  if (!limiter) {
    limiter = createRateLimiter({
      limit: services.config.RATE_LIMIT_PER_MINUTE,
      now: services.now,
      shared: {
        kv: services.kv,
        log: (msg, err) => services.log("warn", msg, { error: String(err) }),
      },
    });
    requestLimiters.set(services, limiter);
  }
  const result = await limiter.check(subject);
  const headers = rateLimitHeaders(result);
  if (!result.allowed) throw new RateLimited(result.retryAfter, headers);
  return headers;
}
