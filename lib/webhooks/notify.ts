import type { Services } from "../services.ts";
import { enqueueInAtomic, type JobHandler, type JobQueue } from "../jobs.ts";
import { type GenerationRecord, isTerminal, loadGeneration } from "../db/generations.ts";
import {
  addOwedEventMutations,
  addWebhookEventMutations,
  clearOwedEventMutations,
  createDeliveryMutations,
  deliveryTargets,
  getWebhookEvent,
  listDueDeliveryIds,
  listOwedEvents,
} from "../db/webhooks.ts";
import { toApiGeneration } from "../generations/service.ts";
import type { Resolver } from "../net/ssrf.ts";
import { signVideoUrl } from "../storage.ts";
import { attemptDelivery, GENERATION_COMPLETED, generationEventPayload } from "./deliver.ts";

/**
 * Wiring of outbound webhooks into the generation lifecycle and the job queue:
 *
 *   terminal commit ──(same atomic)──▶ notify job ──(one atomic per event)──▶ deliveries
 *                   + owed mark                       clears the owed mark    + attempt jobs
 *   attempt job ──attemptDelivery──▶ re-enqueues itself after retryInMs
 *   cron (every minute) ──▶ re-enqueues notify for events still owed, and due deliveries,
 *                           whose job was lost
 *
 * The generation's own commit only adds a queue message, so a slow or failing receiver can never
 * hold up or undo a state change; the notify job does the reading and signing off that path.
 */

export const NOTIFY_JOB = "webhook.notify";
export const ATTEMPT_JOB = "webhook.attempt";
/** The sweep leaves a delivery alone this long past due: its own queued job normally gets it. */
export const SWEEP_GRACE_MS = 30_000;

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
  log?: (message: string, err?: unknown) => void;
}

export function webhookDeps(services: Services): WebhookDeps {
  return {
    kv: services.kv,
    jobs: services.jobs,
    now: services.now,
    publicUrl: services.config.publicUrl,
    secretKey: services.config.secretKey,
    allowPrivate: !services.config.production,
    fetch: services.fetch,
    log: (message, err) =>
      services.log(err ? "error" : "info", message, err ? { error: String(err) } : {}),
  };
}

/**
 * The `onTerminal` hook: adds the notify job to the commit that makes `generation` terminal,
 * so the event is owed exactly when the state change happens (and never otherwise). The owed
 * mark in the same commit lets the sweep rescue the event if the queue loses the job.
 */
export function enqueueGenerationEvent(
  atomic: Deno.AtomicOperation,
  generation: Pick<GenerationRecord, "id" | "completed_at" | "updated_at">,
): void {
  enqueueInAtomic(atomic, { type: NOTIFY_JOB, id: generation.id });
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
 * Creates the generation's `video.generation.completed` deliveries (one per enabled endpoint of
 * its org, plus its per-request `webhook_url`) and their attempt jobs in ONE commit, guarded by
 * the event's fan-out record: a duplicate job creates nothing. Returns the ids it created.
 */
export async function notifyGeneration(deps: WebhookDeps, generationId: string): Promise<string[]> {
  for (let tries = 0; tries < 5; tries++) {
    if (await getWebhookEvent(deps.kv, eventKey(generationId))) return [];
    const entry = await loadGeneration(deps.kv, generationId);
    if (!entry || !isTerminal(entry.value)) return [];
    const g = entry.value;
    const now = deps.now();
    const targets = await deliveryTargets(deps.kv, g.org_id, g.webhook_url);
    const generation = await toApiGeneration(g, {
      publicUrl: deps.publicUrl,
      secretKey: deps.secretKey,
      nowMs: now,
    });
    const payload = generationEventPayload({
      ...generation,
      output_url: generation.output_url &&
        await signVideoUrl(deps.publicUrl, deps.secretKey, g.id, payloadUrlExpiry(now)),
    });
    const a = deps.kv.atomic();
    const ids = targets.map((t) =>
      createDeliveryMutations(a, {
        orgId: g.org_id,
        endpointId: t.endpointId,
        url: t.url,
        eventType: GENERATION_COMPLETED,
        payload,
        nowMs: now,
      })
    );
    for (const id of ids) enqueueInAtomic(a, { type: ATTEMPT_JOB, id });
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
  });
  if (result.retryInMs !== undefined) {
    await deps.jobs.enqueue({ type: ATTEMPT_JOB, id: deliveryId }, { delayMs: result.retryInMs });
  }
}

/**
 * Re-enqueues pending deliveries overdue by more than the grace, so a lost queue message (or a
 * crash between recording an attempt and enqueueing the retry) never strands one. Duplicates
 * are harmless: attemptDelivery claims each attempt once.
 */
export async function sweepDueDeliveries(deps: WebhookDeps, nowMs: number): Promise<string[]> {
  const ids = await listDueDeliveryIds(deps.kv, nowMs - SWEEP_GRACE_MS, 500);
  for (const id of ids) await deps.jobs.enqueue({ type: ATTEMPT_JOB, id });
  return ids;
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
    await deps.jobs.enqueue({ type: NOTIFY_JOB, id: o.generationId });
    requeued.push(o.generationId);
  }
  return requeued;
}

export function webhookJobHandlers(deps: WebhookDeps): Record<string, JobHandler> {
  return {
    [NOTIFY_JOB]: async (job) => {
      await notifyGeneration(deps, job.id);
    },
    [ATTEMPT_JOB]: (job) => runDeliveryAttempt(deps, job.id),
  };
}

/** Runs the delivery sweep every minute; a failure is logged and the next minute tries again. */
export function registerWebhookCron(deps: WebhookDeps): Promise<void> {
  return Deno.cron("pipevideo sweep webhook deliveries", "* * * * *", async () => {
    try {
      const events = await sweepOwedEvents(deps, deps.now());
      if (events.length) deps.log?.(`webhook sweep: requeued ${events.length} lost events`);
      const ids = await sweepDueDeliveries(deps, deps.now());
      if (ids.length) deps.log?.(`webhook sweep: requeued ${ids.length}`);
    } catch (err) {
      deps.log?.("webhook sweep failed", err);
    }
  });
}
