import { decodeDueKey, dueLanePrefix, type JobLane } from "../db/jobs.ts";
import { listRouteBreakers } from "../generations/breaker.ts";
import { breakerOpen, jobsDead, jobsDue, registry } from "./metrics.ts";

/**
 * The gauges that describe state every instance shares (jobs due and dead, breakers) are read
 * from KV when Prometheus scrapes, never kept up to date on the request path. Each read is
 * capped, so a scrape costs a few bounded list calls however large a backlog grows; past the cap
 * a gauge is a lower bound (a backlog that size is the alert anyway).
 */
export const SCRAPE_SCAN_LIMIT = 5000;
const LANES: JobLane[] = ["work", "webhooks"];

async function countDue(kv: Deno.Kv, lane: JobLane, nowMs: number): Promise<number> {
  let n = 0;
  const it = kv.list<null>({ prefix: dueLanePrefix(lane) }, { limit: SCRAPE_SCAN_LIMIT });
  for await (const e of it) if (decodeDueKey(e.key).dueAt <= nowMs) n++;
  return n;
}

async function countDead(kv: Deno.Kv): Promise<number> {
  let n = 0;
  const it = kv.list({ prefix: ["jobs", "dead"] }, { limit: SCRAPE_SCAN_LIMIT });
  for await (const _ of it) n++;
  return n;
}

/** Reads the shared gauges from KV, then renders every metric in the text exposition format. */
export async function scrapeMetrics(kv: Deno.Kv, nowMs: number): Promise<string> {
  const [due, dead, breakers] = await Promise.all([
    Promise.all(LANES.map((lane) => countDue(kv, lane, nowMs))),
    countDead(kv),
    listRouteBreakers(kv, nowMs),
  ]);
  LANES.forEach((lane, i) => jobsDue.labels(lane).set(due[i]));
  jobsDead.set(dead);
  breakerOpen.reset();
  for (const b of breakers) {
    breakerOpen.labels(b.provider, b.model).set(b.breaker === "open" ? 1 : 0);
  }
  return await registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;
