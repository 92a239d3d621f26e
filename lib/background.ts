import type { Services } from "./services.ts";
import type { JobHandler } from "./jobs.ts";
import { generationJobHandlers } from "./generations/workers.ts";
import { generationSweep, SWEEP_GRACE_MS, SWEEP_JOB } from "./generations/sweep.ts";
import { webhookDeps, webhookJobHandlers, webhookSweep } from "./webhooks/notify.ts";
import { alertDeps, alertJobHandlers } from "./spend/alerts.ts";
import { autoTopupDeps, autoTopupJobHandlers } from "./billing/autotopup.ts";
import { registerRetentionCron, retentionDeps, retentionJobHandlers } from "./storage/retention.ts";
import { type ExpiryDeps, expiryJobHandlers, registerExpiryCron } from "./db/expiry.ts";

function expiryDeps(services: Services): ExpiryDeps {
  return {
    kv: services.kv,
    now: services.now,
    log: (m, err) => services.log(err ? "error" : "info", m, err ? { error: String(err) } : {}),
  };
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
    ...retentionJobHandlers(retentionDeps(services)),
    ...expiryJobHandlers(expiryDeps(services)),
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
    generationSweep.cron(services.generation).catch((err) =>
      services.log("error", "cron registration failed", { error: String(err) })
    );
    webhookSweep.cron(webhookDeps(services)).catch((err) =>
      services.log("error", "webhook cron registration failed", { error: String(err) })
    );
    registerRetentionCron(retentionDeps(services)).catch((err) =>
      services.log("error", "retention cron registration failed", { error: String(err) })
    );
    registerExpiryCron(expiryDeps(services)).catch((err) =>
      services.log("error", "record expiry cron registration failed", { error: String(err) })
    );
  }
  return services.jobs.listen(jobHandlers(services));
}
