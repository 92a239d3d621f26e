import { RateLimited } from "./errors.ts";
import type { Services } from "./services.ts";

/**
 * Per-key request limits in process memory (no KV write on the hot path): a sliding window
 * estimated from the current and previous fixed windows, as Cloudflare and others do.
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
  check(key: string): RateLimitResult;
  /** How many keys are tracked (memory use). */
  size(): number;
}

interface Counter {
  windowStart: number;
  current: number;
  previous: number;
}

export function createRateLimiter(opts: {
  limit?: number;
  windowMs?: number;
  now?: () => number;
  /** Past this many keys, counters of idle keys are dropped. */
  maxKeys?: number;
} = {}): RateLimiter {
  const limit = opts.limit ?? 100;
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const counters = new Map<string, Counter>();

  function roll(c: Counter, windowStart: number) {
    if (c.windowStart === windowStart) return;
    c.previous = windowStart - c.windowStart === windowMs ? c.current : 0;
    c.current = 0;
    c.windowStart = windowStart;
  }

  function evictIdle(windowStart: number) {
    for (const [k, c] of counters) {
      if (windowStart - c.windowStart > windowMs) counters.delete(k);
    }
  }

  return {
    size: () => counters.size,
    check(key) {
      const t = now();
      const windowStart = t - (t % windowMs);
      let c = counters.get(key);
      if (!c) {
        if (counters.size >= maxKeys) evictIdle(windowStart);
        counters.set(key, c = { windowStart, current: 0, previous: 0 });
      }
      roll(c, windowStart);
      const elapsed = (t - windowStart) / windowMs;
      const weighted = c.previous * (1 - elapsed) + c.current;
      const resetAt = Math.ceil((windowStart + windowMs) / 1000);
      if (weighted + 1 > limit) {
        // When will the weighted count drop below the limit? Solve previous·(1−x) + current < limit.
        let waitMs = windowStart + windowMs - t;
        if (c.current + 1 <= limit && c.previous > 0) {
          const x = 1 - (limit - 1 - c.current) / c.previous;
          waitMs = Math.max(0, windowStart + x * windowMs - t);
        }
        return {
          allowed: false,
          limit,
          remaining: 0,
          resetAt,
          retryAfter: Math.max(1, Math.ceil(waitMs / 1000)),
        };
      }
      c.current++;
      return {
        allowed: true,
        limit,
        remaining: Math.max(0, Math.floor(limit - weighted - 1)),
        resetAt,
        retryAfter: 0,
      };
    },
  };
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
 * RATE_LIMIT_PER_MINUTE, in memory (no KV write). Over the limit it throws RateLimited (429 with
 * Retry-After); otherwise it returns the X-RateLimit-* headers for the response.
 */
export function enforceRequestLimit(services: Services, subject: string): Record<string, string> {
  let limiter = requestLimiters.get(services);
  if (!limiter) {
    limiter = createRateLimiter({
      limit: services.config.RATE_LIMIT_PER_MINUTE,
      now: services.now,
    });
    requestLimiters.set(services, limiter);
  }
  const result = limiter.check(subject);
  const headers = rateLimitHeaders(result);
  if (!result.allowed) throw new RateLimited(result.retryAfter, headers);
  return headers;
}
