import client from "prom-client";

/**
 * The process's Prometheus metrics (names are a contract: docs/operations.md). prom-client
 * writes the exposition format; counters and histograms count this process only (Prometheus
 * sums instances), the shared-state gauges are filled from KV at scrape time (shared_state.ts).
 * Recording is a counter bump: label children are cached, so a hot path allocates nothing.
 */

export const registry = new client.Registry();
const registers = [registry];

// Seconds; HTTP answers are quick, videos take minutes.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GENERATION_BUCKETS = [5, 15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800];
const PROVIDER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const PICKUP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const httpRequests = new client.Counter({
  name: "pipevideo_http_requests_total",
  help: "HTTP requests answered, by route pattern, method and status.",
  labelNames: ["route", "method", "status"] as const,
  registers,
});
const httpDuration = new client.Histogram({
  name: "pipevideo_http_request_duration_seconds",
  help: "Time to answer an HTTP request, by route pattern.",
  labelNames: ["route"] as const,
  buckets: HTTP_BUCKETS,
  registers,
});
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
const creditsCharged = new client.Counter({
  name: "pipevideo_credits_charged_cents_total",
  help: "Credits charged for generations at submission, in cents.",
  registers,
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
  help: "Background jobs whose due time has passed, waiting for a slot or running, by lane.",
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
const rateLimitRejections = new client.Counter({
  name: "pipevideo_ratelimit_rejections_total",
  help: "Requests refused with 429 by a rate limit.",
  registers,
});
const upstreamDuplicates = new client.Counter({
  name: "pipevideo_upstream_duplicates_total",
  help: "Duplicate paid upstream jobs found after a submit was taken over.",
  registers,
});

/** route -> method -> status -> counter child; built once per combination. */
const requestChildren = new Map<string, Map<string, Map<number, client.Counter.Internal>>>();
const durationChildren = new Map<string, client.Histogram.Internal<string>>();

/** One answered HTTP request; `route` is the matched pattern (null: no route matched). */
export function recordHttpRequest(
  route: string | null,
  method: string,
  status: number,
  seconds: number,
) {
  const r = route ?? "unmatched";
  let byMethod = requestChildren.get(r);
  if (!byMethod) requestChildren.set(r, byMethod = new Map());
  let byStatus = byMethod.get(method);
  if (!byStatus) byMethod.set(method, byStatus = new Map());
  let child = byStatus.get(status);
  if (!child) byStatus.set(status, child = httpRequests.labels(r, method, String(status)));
  child.inc();
  let hist = durationChildren.get(r);
  if (!hist) durationChildren.set(r, hist = httpDuration.labels(r));
  hist.observe(seconds);
  if (status === 429) rateLimitRejections.inc();
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
  if (cents > 0) creditsCharged.inc(cents);
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
