import { configSecretBox, type SecretBox } from "../secret_box.ts";
import type { Config } from "../config.ts";
import { type BackgroundLog, backgroundLog, type Logger } from "../http/log.ts";
import { defineSweep, enqueueInAtomic, type JobHandler, type JobQueue } from "../jobs.ts";
import { type GenerationRecord, isTerminal, loadGeneration } from "../db/generations.ts";
import {
  addOwedEventMutations,
  addWebhookEventMutations,
  clearOwedEventMutations,
  createDeliveryMutations,
  deliveryTargets,
  getDeliveryEntry,
  getWebhookEvent,
  listDueDeliveryIds,
  listOwedEvents,
  markOwedEventRequeuedMutations,
  requeueDeliveryMutations,
  WEBHOOK_SWEEP_LEASE_KEY,
} from "../db/webhooks.ts";
import { toApiGeneration } from "../generations/service.ts";
import { presentGeneration } from "../api/generation.ts";
import { generationEventType, typedEventPayload } from "./events.ts";
import type { Resolver } from "../net/ssrf.ts";
import { signVideoUrl } from "../storage/mod.ts";
import { attemptDelivery, GENERATION_COMPLETED, generationEventPayload } from "./deliver.ts";

/**
 * Wiring of outbound webhooks into the generation lifecycle and the job queue:
 *
 *   terminal commit ──(same atomic)──▶ notify job ──(one atomic per event)──▶ deliveries
 *                   + owed mark                       clears the owed mark    + attempt jobs
 *   attempt job ──attemptDelivery──▶ re-enqueues itself after retryInMs
 *   cron (every minute) ──▶ sweep job (under a KV lease) ──▶ re-enqueues notify for events still
 *                           owed, and attempts of overdue deliveries, whose job was lost
 *
 * The generation's own commit only adds a job, so a slow or failing receiver can never
 * hold up or undo a state change; the notify job does the reading and signing off that path.
 */

export const NOTIFY_JOB = "webhook.notify";
export const ATTEMPT_JOB = "webhook.attempt";
export const SWEEP_JOB = "webhook.sweep";
/** The sweep leaves a delivery alone this long past due: its own queued job normally gets it. */
export const SWEEP_GRACE_MS = 30_000;
/**
 * A delivery the sweep re-enqueued is not re-enqueued again for this long: behind a backlog (jobs
 * run 4 at a time, an attempt may take its 10 s timeout) its job is late, not lost.
 */
export const REQUEUE_INTERVAL_MS = 10 * 60_000;
/** Shorter than the cron's minute, so the next minute sweeps; duplicates of a minute collapse. */
export const SWEEP_LEASE_MS = 50_000;

/** What the webhook jobs touch; built from Services in the app, from real parts in tests. */
export interface WebhookDeps {
  kv: Deno.Kv;
  jobs: JobQueue;
  now: () => number;
  /** For the signed `output_url` in the payload. */
  publicUrl: string;
  secretKey: string;
  /** `!config.production`: private targets are refused in production, at delivery too. */
  allowPrivate: boolean;
  fetch?: typeof fetch;
  resolve?: Resolver;
  random?: () => number;
  timeoutMs?: number;
  log?: BackgroundLog;
  /** Seals and opens webhook signing secrets at rest. */
  box?: SecretBox;
}

/** Typed by what it reads, so this module never imports lib/services.ts (which imports it). */
export function webhookDeps(services: {
  kv: Deno.Kv;
  jobs: JobQueue;
  now: () => number;
  config: Pick<Config, "publicUrl" | "secretKey" | "production" | "SECRET_KEY_PREVIOUS">;
  fetch: typeof fetch;
  log: Logger;
}): WebhookDeps {
  return {
    box: configSecretBox(services.config),
    kv: services.kv,
    jobs: services.jobs,
    now: services.now,
    publicUrl: services.config.publicUrl,
    secretKey: services.config.secretKey,
    allowPrivate: !services.config.production,
    fetch: services.fetch,
    log: backgroundLog(services.log),
  };
}

/**
 * The `onTerminal` hook: adds the notify job to the commit that makes `generation` terminal,
 * so the event is owed exactly when the state change happens (and never otherwise). The owed
 * mark in the same commit lets the sweep rescue the event if the queue loses the job.
 */
export function enqueueGenerationEvent(
  atomic: Deno.AtomicOperation,
  generation: Pick<GenerationRecord, "id" | "org_id" | "completed_at" | "updated_at">,
): void {
  enqueueInAtomic(atomic, { type: NOTIFY_JOB, id: generation.id, org: generation.org_id });
  addOwedEventMutations(atomic, generation.id, owedSince(generation));
}

/** When the terminal commit happened: the owed mark's time, recomputable from the record. */
function owedSince(g: Pick<GenerationRecord, "completed_at" | "updated_at">): number {
  return g.completed_at ?? g.updated_at;
}

/**
 * The payload's `output_url` is sent (and resent) for about a day of retries, so it is signed for
 * a week instead of the GET API's hour; rounded to the hour so every delivery carries the same URL.
 */
export const PAYLOAD_URL_LIFETIME_SEC = 7 * 24 * 3600;

function payloadUrlExpiry(nowMs: number): number {
  return Math.ceil((Math.floor(nowMs / 1000) + PAYLOAD_URL_LIFETIME_SEC) / 3600) * 3600;
}

function eventKey(generationId: string): string {
  return `${generationId}:${GENERATION_COMPLETED}`;
}

/**
 * Creates the generation's event deliveries (one per enabled endpoint of its org that takes the
 * event, plus its per-request `webhook_url`): the compat `video.generation.completed`, or the
 * typed `video.generation.<outcome>` for endpoints that chose typed events (lib/webhooks/
 * events.ts). Their attempt jobs go in the same ONE commit, guarded by
 * the event's fan-out record: a duplicate job creates nothing. Returns the ids it created.
 */
export async function notifyGeneration(deps: WebhookDeps, generationId: string): Promise<string[]> {
  for (let tries = 0; tries < 5; tries++) {
    if (await getWebhookEvent(deps.kv, eventKey(generationId))) return [];
    const entry = await loadGeneration(deps.kv, generationId);
    if (!entry || !isTerminal(entry.value)) return [];
    const g = entry.value;
    const now = deps.now();
    const type = generationEventType(g.status)!;
    const targets = await deliveryTargets(deps.kv, g.org_id, g.webhook_url, type);
    const ctx = { publicUrl: deps.publicUrl, secretKey: deps.secretKey, nowMs: now };
    // Signed for the retries' week rather than the GET API's hour.
    const outputUrl = g.status === "completed" && g.output
      ? await signVideoUrl(deps.publicUrl, deps.secretKey, g.id, payloadUrlExpiry(now))
      : null;
    const compat = await toApiGeneration(g, ctx);
    const presented = await presentGeneration(g, ctx);
    const payloads = {
      // The compat event carries the compat object; typed events the API's whole object.
      compat: generationEventPayload({ ...compat, output_url: outputUrl }),
      typed: typedEventPayload(type, owedSince(g), { ...presented, output_url: outputUrl }),
    };
    let a = deps.kv.atomic();
    let ids: string[];
    try {
      ids = targets.map((t) =>
        createDeliveryMutations(a, {
          orgId: g.org_id,
          endpointId: t.endpointId,
          url: t.url,
          eventType: t.typed ? type : GENERATION_COMPLETED,
          payload: t.typed ? payloads.typed : payloads.compat,
          nowMs: now,
        })
      );
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      // A payload that can never be stored fails once, in the log, instead of being retried
      // (and rescued by the sweep) forever: the event is recorded with no deliveries.
      deps.log?.(`notify ${generationId}: webhook event not delivered`, err);
      a = deps.kv.atomic();
      ids = [];
    }
    for (const id of ids) enqueueInAtomic(a, { type: ATTEMPT_JOB, id, org: g.org_id });
    addWebhookEventMutations(a, eventKey(generationId), ids, now);
    clearOwedEventMutations(a, g.id, owedSince(g));
    if ((await a.commit()).ok) return ids;
  }
  // Lost every race: someone else recorded the event (checked at the top) or KV is overloaded.
  if (await getWebhookEvent(deps.kv, eventKey(generationId))) return [];
  throw new Error(`notify ${generationId}: could not record the webhook event`);
}

/** Makes the delivery's next attempt if due; a failure that will be retried re-enqueues itself. */
export async function runDeliveryAttempt(deps: WebhookDeps, deliveryId: string): Promise<void> {
  const result = await attemptDelivery(deps.kv, deliveryId, {
    nowMs: deps.now,
    allowPrivate: deps.allowPrivate,
    fetch: deps.fetch,
    resolve: deps.resolve,
    random: deps.random,
    timeoutMs: deps.timeoutMs,
    box: deps.box,
  });
  if (result.retryInMs !== undefined) {
    await deps.jobs.enqueue({ type: ATTEMPT_JOB, id: deliveryId }, { delayMs: result.retryInMs });
  }
}

/**
 * Re-enqueues pending deliveries overdue by more than the grace, so a lost queue message (or a
 * crash between recording an attempt and enqueueing the retry) never strands one. Each requeue is
 * stamped on the delivery in the commit that enqueues it, checked, so racing sweeps enqueue once
 * and a delivery is re-enqueued at most once per REQUEUE_INTERVAL_MS; one being sent is left
 * alone. Returns the ids re-enqueued.
 */
export async function sweepDueDeliveries(deps: WebhookDeps, nowMs: number): Promise<string[]> {
  const ids = await listDueDeliveryIds(deps.kv, nowMs - SWEEP_GRACE_MS, 500);
  const requeued: string[] = [];
  for (const id of ids) {
    const entry = await getDeliveryEntry(deps.kv, id);
    const d = entry.value;
    if (!d || d.status !== "pending") continue;
    if (d.in_flight_until !== null && d.in_flight_until > nowMs) continue;
    if (d.requeued_at != null && nowMs - d.requeued_at < REQUEUE_INTERVAL_MS) continue;
    const a = deps.kv.atomic();
    requeueDeliveryMutations(a, { ...entry, value: d }, nowMs);
    enqueueInAtomic(a, { type: ATTEMPT_JOB, id });
    if ((await a.commit()).ok) requeued.push(id);
  }
  return requeued;
}

/**
 * Re-enqueues the notify job of terminal generations whose event is still owed past the grace,
 * so a lost queue message never loses an event. A mark whose event was recorded anyway (or whose
 * generation is gone) is dropped instead. Returns the generation ids re-enqueued.
 */
export async function sweepOwedEvents(deps: WebhookDeps, nowMs: number): Promise<string[]> {
  const owed = await listOwedEvents(deps.kv, nowMs - SWEEP_GRACE_MS, 500);
  const requeued: string[] = [];
  for (const o of owed) {
    const [event, generation] = await Promise.all([
      getWebhookEvent(deps.kv, eventKey(o.generationId)),
      loadGeneration(deps.kv, o.generationId),
    ]);
    if (event || !generation) {
      const a = deps.kv.atomic();
      clearOwedEventMutations(a, o.generationId, o.owedAt);
      await a.commit();
      continue;
    }
    // A notify job may just be waiting behind a backlog: re-enqueue it at most once per interval.
    if (o.requeuedAt !== null && nowMs - o.requeuedAt < REQUEUE_INTERVAL_MS) continue;
    // The checked stamp lets one of racing sweeps enqueue; a crash before the enqueue only
    // delays the rescue by one interval.
    const a = deps.kv.atomic();
    markOwedEventRequeuedMutations(a, o, nowMs);
    if (!(await a.commit()).ok) continue;
    await deps.jobs.enqueue({ type: NOTIFY_JOB, id: o.generationId });
    requeued.push(o.generationId);
  }
  return requeued;
}

export interface WebhookSweepResult {
  /** Generation ids whose notify job was re-enqueued. */
  events: string[];
  /** Delivery ids whose attempt job was re-enqueued. */
  deliveries: string[];
}

/**
 * The webhook sweep (defineSweep: a minute cron enqueues it, a KV lease collapses duplicates):
 * events and deliveries whose job was lost get one again.
 */
export const webhookSweep = defineSweep<WebhookDeps, WebhookSweepResult>({
  type: SWEEP_JOB,
  leaseKey: WEBHOOK_SWEEP_LEASE_KEY,
  leaseMs: SWEEP_LEASE_MS,
  async sweep(deps, nowMs) {
    const events = await sweepOwedEvents(deps, nowMs);
    if (events.length) deps.log?.(`webhook sweep: requeued ${events.length} lost events`);
    const deliveries = await sweepDueDeliveries(deps, nowMs);
    if (deliveries.length) deps.log?.(`webhook sweep: requeued ${deliveries.length} deliveries`);
    return { events, deliveries };
  },
});

export function webhookJobHandlers(deps: WebhookDeps): Record<string, JobHandler> {
  return {
    [NOTIFY_JOB]: async (job) => {
      await notifyGeneration(deps, job.id);
    },
    [ATTEMPT_JOB]: (job) => runDeliveryAttempt(deps, job.id),
    ...webhookSweep.handlers(deps),
  };
}
