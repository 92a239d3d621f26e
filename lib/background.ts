import type { Services } from "./services.ts";
import { defineSweep, type JobHandler, type SweepDeps } from "./jobs.ts";
import { backgroundLog } from "./http/log.ts";
import { generationJobHandlers } from "./generations/workers.ts";
import { generationSweep, SWEEP_GRACE_MS, SWEEP_JOB } from "./generations/sweep.ts";
import { webhookDeps, webhookJobHandlers, webhookSweep } from "./webhooks/notify.ts";
import { alertDeps, alertJobHandlers } from "./spend/alerts.ts";
import { autoTopupDeps, autoTopupJobHandlers } from "./billing/autotopup.ts";
import { retentionDeps, retentionSweep } from "./storage/retention.ts";
import {
  deleteExpiredRecords,
  EXPIRY_JOB,
  EXPIRY_LEASE_KEY,
  EXPIRY_LEASE_MS,
} from "./db/expiry.ts";

/**
 * The record expiry sweep: KV records past their own expiry (sessions, sign-in links,
 * idempotency records, one-time reveals) are deleted (lib/db/expiry.ts).
 */
export const recordExpirySweep = defineSweep<SweepDeps, Record<string, number>>({
  type: EXPIRY_JOB,
  leaseKey: EXPIRY_LEASE_KEY,
  leaseMs: EXPIRY_LEASE_MS,
  async sweep(deps, nowMs) {
    const deleted = await deleteExpiredRecords(deps.kv, nowMs);
    if (Object.values(deleted).some((n) => n > 0)) {
      deps.log?.(`record expiry: deleted ${JSON.stringify(deleted)}`);
    }
    return deleted;
  },
});

/** What the sweeps that need only the KV and a clock get. */
export function sweepDeps(services: Services): SweepDeps {
  return { kv: services.kv, now: services.now, log: backgroundLog(services.log) };
}

/**
 * Every job type the process handles, by type: the one table of handlers (add new kinds here).
 * This module sits above lib/services.ts; nothing below it imports either.
 */
export function jobHandlers(services: Services): Record<string, JobHandler> {
  return {
    ...generationJobHandlers(services.generation),
    ...generationSweep.handlers(services.generation),
    ...webhookJobHandlers(webhookDeps(services)),
    ...alertJobHandlers(alertDeps(services)),
    ...autoTopupJobHandlers(autoTopupDeps(services)),
    ...retentionSweep.handlers(retentionDeps(services)),
    ...recordExpirySweep.handlers(sweepDeps(services)),
  };
}

/**
 * Starts the job runner (and, unless told not to, the once-a-minute sweeps). Resolves when
 * the KV database closes. Tests pass `cron: false` and call the sweeps directly.
 */
export function startBackground(services: Services, opts: { cron?: boolean } = {}): Promise<void> {
  if (opts.cron ?? true) {
    // After a restart (a crash, say), work whose job died with the old process is
    // overdue once the grace has passed: sweep then, not at whichever minute the cron fires.
    services.jobs.enqueue({ type: SWEEP_JOB, id: "startup" }, { delayMs: SWEEP_GRACE_MS + 2_000 })
      .catch((err) => services.log("error", "startup sweep not enqueued", { error: String(err) }));
    const crons = [
      generationSweep.cron(services.generation),
      webhookSweep.cron(webhookDeps(services)),
      retentionSweep.cron(retentionDeps(services)),
      recordExpirySweep.cron(sweepDeps(services)),
    ];
    for (const c of crons) {
      c.catch((err) => services.log("error", "cron registration failed", { error: String(err) }));
    }
  }
  return services.jobs.listen(jobHandlers(services));
}
