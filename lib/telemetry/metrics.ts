import client from "prom-client";

/**
 * The process's Prometheus metrics (names are a contract: docs/operations.md). prom-client
 * writes the exposition format; counters and histograms count this process only (Prometheus
 * sums instances), the shared-state gauges are filled from KV at scrape time (shared_state.ts).
 * On the request path (HTTP requests, charges, 429s) recording bumps plain numbers that the
 * scrape hands to prom-client, so a request allocates nothing; per job and per provider call
 * (each already several KV round trips) prom-client's own metrics record directly.
 */

export const registry = new client.Registry();
const registers = [registry];

// Seconds; HTTP answers are quick, videos take minutes.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GENERATION_BUCKETS = [5, 15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800];
const PROVIDER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const PICKUP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * HTTP requests are counted in plain numbers per route (a Map lookup and an increment, nothing
 * allocated once a route/method/status has been seen); prom-client's label hashing and
 * histogram closures would allocate on every request. The scrape hands the totals over.
 */
interface RouteStats {
  /** method -> status -> requests */
  requests: Map<string, Map<number, number>>;
  /** Per bucket (HTTP_BUCKETS, then +Inf), not cumulative. */
  buckets: Float64Array;
  sum: number;
  count: number;
}
const routeStats = new Map<string, RouteStats>();
let rateLimited = 0;

new client.Counter({
  name: "pipevideo_http_requests_total",
  help: "HTTP requests answered, by route pattern, method and status.",
  labelNames: ["route", "method", "status"] as const,
  registers,
  collect() {
    this.reset();
    for (const [route, r] of routeStats) {
      for (const [method, byStatus] of r.requests) {
        for (const [status, n] of byStatus) this.labels(route, method, String(status)).inc(n);
      }
    }
  },
});

const HTTP_DURATION = "pipevideo_http_request_duration_seconds";
const HTTP_DURATION_HELP = "Time to answer an HTTP request, by route pattern.";
// A histogram prom-client formats from the per-route buckets above (its own Histogram would
// observe each request through label hashing).
registry.registerMetric({
  name: HTTP_DURATION,
  help: HTTP_DURATION_HELP,
  type: "histogram",
  get() {
    const values = [];
    for (const [route, r] of routeStats) {
      let cumulative = 0;
      for (let i = 0; i <= HTTP_BUCKETS.length; i++) {
        cumulative += r.buckets[i];
        const le = i < HTTP_BUCKETS.length ? String(HTTP_BUCKETS[i]) : "+Inf";
        values.push({
          metricName: `${HTTP_DURATION}_bucket`,
          labels: { le, route },
          value: cumulative,
        });
      }
      values.push({ metricName: `${HTTP_DURATION}_sum`, labels: { route }, value: r.sum });
      values.push({ metricName: `${HTTP_DURATION}_count`, labels: { route }, value: r.count });
    }
    return {
      name: HTTP_DURATION,
      help: HTTP_DURATION_HELP,
      type: "histogram",
      values,
      aggregator: "sum",
    };
  },
} as unknown as client.Metric);

const generations = new client.Counter({
  name: "pipevideo_generations_total",
  help: "Generations that reached a terminal status, by model, provider and status.",
  labelNames: ["model", "provider", "status"] as const,
  registers,
});
const generationDuration = new client.Histogram({
  name: "pipevideo_generation_duration_seconds",
  help: "Time from submission to completion of completed generations, by model and provider.",
  labelNames: ["model", "provider"] as const,
  buckets: GENERATION_BUCKETS,
  registers,
});
// Bumped on the submit path (once per group commit): a plain number, handed over at scrape time.
let chargedCents = 0;
new client.Counter({
  name: "pipevideo_credits_charged_cents_total",
  help: "Credits charged for generations at submission, in cents.",
  registers,
  collect() {
    this.reset();
    this.inc(chargedCents);
  },
});
const creditsRefunded = new client.Counter({
  name: "pipevideo_credits_refunded_cents_total",
  help: "Credits refunded for failed, cancelled or settled generations, in cents.",
  registers,
});
const providerRequests = new client.Counter({
  name: "pipevideo_provider_requests_total",
  help: "Calls to provider adapters (submit, poll, cancel), by provider and outcome.",
  labelNames: ["provider", "outcome"] as const,
  registers,
});
const providerDuration = new client.Histogram({
  name: "pipevideo_provider_request_duration_seconds",
  help: "Time of a call to a provider adapter, by provider.",
  labelNames: ["provider"] as const,
  buckets: PROVIDER_BUCKETS,
  registers,
});
export const jobsDue = new client.Gauge({
  name: "pipevideo_jobs_due",
  help: "Background jobs past their due time that no worker holds (waiting for a slot), by lane.",
  labelNames: ["lane"] as const,
  registers,
});
export const jobsDead = new client.Gauge({
  name: "pipevideo_jobs_dead",
  help: "Background jobs parked after their last attempt (retry them in /admin).",
  registers,
});
const jobPickup = new client.Histogram({
  name: "pipevideo_job_pickup_seconds",
  help: "Time from a job's due time to its claim by a worker of this process.",
  buckets: PICKUP_BUCKETS,
  registers,
});
export const breakerOpen = new client.Gauge({
  name: "pipevideo_breaker_open",
  help: "1 while a route's circuit breaker is open, else 0, by provider and route (model).",
  labelNames: ["provider", "route"] as const,
  registers,
});
new client.Counter({
  name: "pipevideo_ratelimit_rejections_total",
  help: "Requests refused with 429 by a rate limit.",
  registers,
  collect() {
    this.reset();
    this.inc(rateLimited);
  },
});
const upstreamDuplicates = new client.Counter({
  name: "pipevideo_upstream_duplicates_total",
  help: "Duplicate paid upstream jobs found after a submit was taken over.",
  registers,
});

/** One answered HTTP request; `route` is the matched pattern (null: no route matched). */
export function recordHttpRequest(
  route: string | null,
  method: string,
  status: number,
  seconds: number,
) {
  const key = route ?? "unmatched";
  let r = routeStats.get(key);
  if (!r) {
    r = {
      requests: new Map(),
      buckets: new Float64Array(HTTP_BUCKETS.length + 1),
      sum: 0,
      count: 0,
    };
    routeStats.set(key, r);
  }
  let byStatus = r.requests.get(method);
  if (!byStatus) r.requests.set(method, byStatus = new Map());
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  let b = 0;
  while (b < HTTP_BUCKETS.length && seconds > HTTP_BUCKETS[b]) b++;
  r.buckets[b]++;
  r.sum += seconds;
  r.count++;
  if (status === 429) rateLimited++;
}

/** A generation reached a terminal status (counted once: only the committing process sees it). */
export function recordGenerationEnded(g: {
  model: string;
  provider: string;
  status: string;
  refundedCents: number;
  seconds: number | null;
}) {
  generations.labels(g.model, g.provider, g.status).inc();
  if (g.status === "completed" && g.seconds !== null) {
    generationDuration.labels(g.model, g.provider).observe(g.seconds);
  }
  if (g.refundedCents > 0) creditsRefunded.inc(g.refundedCents);
}

export function recordCreditsCharged(cents: number) {
  chargedCents += cents;
}

export function recordProviderCall(
  provider: string,
  outcome: "ok" | "transient" | "error",
  seconds: number,
) {
  providerRequests.labels(provider, outcome).inc();
  providerDuration.labels(provider).observe(seconds);
}

export function recordJobPickup(seconds: number) {
  jobPickup.observe(Math.max(0, seconds));
}

export function recordUpstreamDuplicate() {
  upstreamDuplicates.inc();
}
