import { kvCursor, type Page, pagedRead } from "./kv.ts";
import type { SecretBox } from "../secret_box.ts";
import { idAt, newId } from "../ids.ts";
import { newWebhookSecret } from "../crypto.ts";

/**
 * Webhook endpoints and deliveries in Deno KV. This module owns these key shapes:
 *   ["webhook_endpoints", orgId, endpointId]                    -> WebhookEndpointRecord
 *   ["webhook_default_secrets", orgId]                          -> DefaultSecret
 *   ["webhook_deliveries", deliveryId]                          -> WebhookDelivery
 *   ["org_webhook_deliveries", orgId, deliveryId]               -> deliveryId
 *   ["endpoint_webhook_deliveries", orgId, endpointId, deliveryId] -> deliveryId
 *   ["webhook_deliveries_due", nextAttemptAtMs, deliveryId]     -> deliveryId (pending only)
 *   ["webhook_events", eventKey]                                -> WebhookEventRecord (fan-out done)
 *   ["webhook_events_owed", owedAtMs, generationId]             -> generationId (fan-out pending)
 *   ["webhook_sweep_lease"]                                     -> lease expiry (withLease)
 * Every time here is Unix milliseconds; routes convert to seconds at the API edge.
 */

const ENDPOINTS = "webhook_endpoints";
const DEFAULT_SECRETS = "webhook_default_secrets";
const DELIVERIES = "webhook_deliveries";
const ORG_DELIVERIES = "org_webhook_deliveries";
const ENDPOINT_DELIVERIES = "endpoint_webhook_deliveries";
const DUE = "webhook_deliveries_due";
const EVENTS = "webhook_events";
const OWED = "webhook_events_owed";
/** The webhook sweep's lease (withLease in ./kv.ts): one sweep at a time. */
export const WEBHOOK_SWEEP_LEASE_KEY: Deno.KvKey = ["webhook_sweep_lease"];

/** How long a rotated-out secret still signs, so receivers can switch without dropping events. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** Fan-out per event is bounded so one commit stays far below KV's 1000-mutation limit. */
export const MAX_ENDPOINTS_PER_ORG = 20;
/** Attempts kept per delivery; older ones are dropped so the record stays below 64 KiB. */
export const MAX_ATTEMPTS_KEPT = 20;
const MAX_BODY_CHARS = 40_000;
const MAX_EXCERPT_CHARS = 1_000;

/** What the API shows about an endpoint: never its secrets. */
export interface WebhookEndpoint {
  id: string;
  org_id: string;
  url: string;
  description: string;
  enabled: boolean;
  /** Typed events it subscribed to (lib/webhooks/events.ts); absent or empty: the compat event. */
  events?: string[];
  created_at: number;
  updated_at: number;
}

/** The stored endpoint. Its secrets are sealed (lib/secret_box.ts): we must sign with them. */
export interface WebhookEndpointRecord extends WebhookEndpoint {
  secret: string;
  previous_secret: { secret: string; expires_at: number } | null;
}

interface DefaultSecret {
  secret: string;
  created_at: number;
}

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export interface WebhookAttempt {
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string;
}

export interface WebhookDelivery {
  id: string;
  org_id: string;
  /** null for a per-request `webhook_url` (signed with the org's default secret). */
  endpoint_id: string | null;
  url: string;
  event_type: string;
  /** The `webhook-id` header: the same on every retry, so receivers can drop duplicates. */
  msg_id: string;
  /** The JSON body exactly as sent. */
  body: string;
  status: DeliveryStatus;
  attempts: WebhookAttempt[];
  attempt_count: number;
  /** Failed attempts since the last (re)send: the position in the backoff schedule. */
  retry_index: number;
  next_attempt_at: number | null;
  /** Set while a worker is sending; other copies of the job leave the delivery alone until then. */
  in_flight_until: number | null;
  /** When the sweep last re-enqueued it (its job looked lost); cleared by an attempt or resend. */
  requeued_at?: number | null;
  created_at: number;
  updated_at: number;
}

function publicEndpoint(r: WebhookEndpointRecord): WebhookEndpoint {
  const { secret: _s, previous_secret: _p, ...view } = r;
  return view;
}

// ---------------------------------------------------------------------------------------------
// Endpoints

export async function createEndpoint(
  kv: Deno.Kv,
  orgId: string,
  input: { url: string; description?: string; events?: string[] },
  nowMs: number,
  box?: SecretBox,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const secret = newWebhookSecret();
  const existing = await listEndpointRecords(kv, orgId);
  if (existing.length >= MAX_ENDPOINTS_PER_ORG) {
    throw new RangeError(`An organization can have at most ${MAX_ENDPOINTS_PER_ORG} endpoints`);
  }
  const record: WebhookEndpointRecord = {
    id: newId("whe", nowMs),
    org_id: orgId,
    url: input.url,
    description: input.description ?? "",
    enabled: true,
    ...(input.events?.length ? { events: input.events } : {}),
    created_at: nowMs,
    updated_at: nowMs,
    secret: box ? await box.seal(secret) : secret,
    previous_secret: null,
  };
  const key = [ENDPOINTS, orgId, record.id];
  const res = await kv.atomic().check({ key, versionstamp: null }).set(key, record).commit();
  if (!res.ok) throw new Error(`Endpoint id collision: ${record.id}`);
  return { endpoint: publicEndpoint(record), secret };
}

async function listEndpointRecords(kv: Deno.Kv, orgId: string): Promise<WebhookEndpointRecord[]> {
  const out: WebhookEndpointRecord[] = [];
  for await (const e of kv.list<WebhookEndpointRecord>({ prefix: [ENDPOINTS, orgId] })) {
    out.push(e.value);
  }
  return out;
}

/** The org's endpoints, oldest first. */
export async function listEndpoints(kv: Deno.Kv, orgId: string): Promise<WebhookEndpoint[]> {
  return (await listEndpointRecords(kv, orgId)).map(publicEndpoint);
}

export async function getEndpoint(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
): Promise<WebhookEndpoint | null> {
  const record = await getEndpointRecord(kv, orgId, endpointId);
  return record && publicEndpoint(record);
}

/** The stored endpoint with its secrets, for signing. Another org's id gives null. */
export async function getEndpointRecord(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
): Promise<WebhookEndpointRecord | null> {
  return (await kv.get<WebhookEndpointRecord>([ENDPOINTS, orgId, endpointId])).value;
}

/** Read-modify-write of one endpoint, retried when another writer got there first. */
async function updateEndpoint(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
  change: (r: WebhookEndpointRecord) => WebhookEndpointRecord,
): Promise<WebhookEndpointRecord | null> {
  const key = [ENDPOINTS, orgId, endpointId];
  for (let i = 0; i < 10; i++) {
    const entry = await kv.get<WebhookEndpointRecord>(key);
    if (!entry.value) return null;
    const next = change(entry.value);
    if ((await kv.atomic().check(entry).set(key, next).commit()).ok) return next;
  }
  throw new Error(`Endpoint ${endpointId} is being changed concurrently; try again`);
}

export async function setEndpointEnabled(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
  enabled: boolean,
  nowMs: number,
): Promise<WebhookEndpoint | null> {
  const r = await updateEndpoint(kv, orgId, endpointId, (r) => ({
    ...r,
    enabled,
    updated_at: nowMs,
  }));
  return r && publicEndpoint(r);
}

/** Deletes the endpoint; its past deliveries stay listed. False when there was none. */
export async function deleteEndpoint(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
): Promise<boolean> {
  const key = [ENDPOINTS, orgId, endpointId];
  const entry = await kv.get(key);
  if (!entry.value) return false;
  return (await kv.atomic().check(entry).delete(key).commit()).ok;
}

/**
 * Gives the endpoint a new secret (returned once); the old one keeps signing for 24 h.
 * A second rotation within the overlap drops the oldest secret.
 */
export async function rotateEndpointSecret(
  kv: Deno.Kv,
  orgId: string,
  endpointId: string,
  nowMs: number,
  box?: SecretBox,
): Promise<{ endpoint: WebhookEndpoint; secret: string } | null> {
  const secret = newWebhookSecret();
  const stored = box ? await box.seal(secret) : secret;
  const r = await updateEndpoint(kv, orgId, endpointId, (r) => ({
    ...r,
    secret: stored,
    previous_secret: { secret: r.secret, expires_at: nowMs + SECRET_OVERLAP_MS },
    updated_at: nowMs,
  }));
  return r && { endpoint: publicEndpoint(r), secret };
}

/**
 * The secrets that sign now: the current one, then the previous one while it has not expired.
 * Stored sealed (or, from before sealing, in clear): `box` opens them.
 */
export async function signingSecrets(
  endpoint: WebhookEndpointRecord,
  nowMs: number,
  box?: SecretBox,
): Promise<string[]> {
  const prev = endpoint.previous_secret;
  const stored = prev && prev.expires_at > nowMs
    ? [endpoint.secret, prev.secret]
    : [endpoint.secret];
  return box ? await Promise.all(stored.map((s) => box.open(s))) : stored;
}

/** The org's secret for per-request `webhook_url` deliveries, made on first use. */
export async function getOrCreateDefaultSecret(
  kv: Deno.Kv,
  orgId: string,
  nowMs = Date.now(),
  box?: SecretBox,
): Promise<string> {
  const key = [DEFAULT_SECRETS, orgId];
  for (let i = 0; i < 3; i++) {
    const entry = await kv.get<DefaultSecret>(key);
    if (entry.value) return box ? await box.open(entry.value.secret) : entry.value.secret;
    const secret = newWebhookSecret();
    const value: DefaultSecret = {
      secret: box ? await box.seal(secret) : secret,
      created_at: nowMs,
    };
    if ((await kv.atomic().check(entry).set(key, value).commit()).ok) return secret;
  }
  throw new Error("Could not create the default webhook secret");
}

/** Where an event for this org goes: its enabled endpoints, plus a per-request URL if given. */
export interface DeliveryTarget {
  endpointId: string | null;
  url: string;
  /** The endpoint chose typed events (it gets `event` as {type, timestamp, data}). */
  typed: boolean;
}

/**
 * Where an event goes: every enabled endpoint that takes it, plus the per-request webhook_url.
 * An endpoint with a list of typed events takes only those (`event`); one without takes the
 * compat events. A per-request webhook_url always gets the compat event.
 */
export async function deliveryTargets(
  kv: Deno.Kv,
  orgId: string,
  webhookUrl: string | null,
  event?: string,
): Promise<DeliveryTarget[]> {
  const endpoints = (await listEndpointRecords(kv, orgId)).filter((e) => e.enabled);
  const targets: DeliveryTarget[] = endpoints.flatMap((e) => {
    const typed = (e.events?.length ?? 0) > 0;
    if (typed && (event === undefined || !e.events!.includes(event))) return [];
    return [{ endpointId: e.id, url: e.url, typed }];
  });
  if (webhookUrl) targets.push({ endpointId: null, url: webhookUrl, typed: false });
  return targets;
}

// ---------------------------------------------------------------------------------------------
// Deliveries

function deliveryIndexKeys(d: Pick<WebhookDelivery, "id" | "org_id" | "endpoint_id">) {
  const keys: Deno.KvKey[] = [[ORG_DELIVERIES, d.org_id, d.id]];
  if (d.endpoint_id) keys.push([ENDPOINT_DELIVERIES, d.org_id, d.endpoint_id, d.id]);
  return keys;
}

/**
 * Adds a pending delivery (record and indexes) to `atomic`, which the caller commits together
 * with the change that caused the event. Returns the delivery id for the caller's job.
 */
export function createDeliveryMutations(
  atomic: Deno.AtomicOperation,
  input: {
    orgId: string;
    endpointId: string | null;
    url: string;
    eventType: string;
    payload: unknown;
    nowMs: number;
  },
): string {
  const body = JSON.stringify(input.payload);
  if (body.length > MAX_BODY_CHARS) {
    throw new RangeError(`Webhook payload is ${body.length} chars, over ${MAX_BODY_CHARS}`);
  }
  const id = newId("whd", input.nowMs);
  const delivery: WebhookDelivery = {
    id,
    org_id: input.orgId,
    endpoint_id: input.endpointId,
    url: input.url,
    event_type: input.eventType,
    msg_id: `msg_${id.slice(4)}`,
    body,
    status: "pending",
    attempts: [],
    attempt_count: 0,
    retry_index: 0,
    next_attempt_at: input.nowMs,
    in_flight_until: null,
    created_at: input.nowMs,
    updated_at: input.nowMs,
  };
  const key = [DELIVERIES, id];
  atomic.check({ key, versionstamp: null }).set(key, delivery);
  for (const k of deliveryIndexKeys(delivery)) atomic.set(k, id);
  atomic.set([DUE, input.nowMs, id], id);
  return id;
}

/** The delivery with its versionstamp, for a checked update. No org check: workers use it. */
export async function getDeliveryEntry(
  kv: Deno.Kv,
  deliveryId: string,
): Promise<Deno.KvEntryMaybe<WebhookDelivery>> {
  return await kv.get<WebhookDelivery>([DELIVERIES, deliveryId]);
}

export async function getDelivery(
  kv: Deno.Kv,
  orgId: string,
  deliveryId: string,
): Promise<WebhookDelivery | null> {
  const d = (await getDeliveryEntry(kv, deliveryId)).value;
  return d && d.org_id === orgId ? d : null;
}

/** Newest first; `endpointId` narrows to one endpoint. `cursor` comes from the previous page. */
export async function listDeliveries(
  kv: Deno.Kv,
  orgId: string,
  opts: { endpointId?: string; limit?: number; cursor?: string | null } = {},
): Promise<Page<WebhookDelivery>> {
  const limit = Math.min(Math.max(opts.limit ?? 20, 1), 100);
  const prefix = opts.endpointId
    ? [ENDPOINT_DELIVERIES, orgId, opts.endpointId]
    : [ORG_DELIVERIES, orgId];
  const cursor = kvCursor(opts.cursor);
  const ids: string[] = [];
  let next: string | null = null;
  await pagedRead(cursor, async () => {
    const iter = kv.list<string>({ prefix }, { reverse: true, limit: limit + 1, cursor });
    let lastCursor = "";
    for await (const e of iter) {
      // One entry past the page means there is a next page; it starts after the page's last entry.
      if (ids.length === limit) {
        next = lastCursor;
        break;
      }
      ids.push(e.value);
      lastCursor = iter.cursor;
    }
  });
  const data: WebhookDelivery[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const entries = await kv.getMany<WebhookDelivery[]>(
      ids.slice(i, i + 10).map((id) => [DELIVERIES, id]),
    );
    for (const e of entries) if (e.value) data.push(e.value);
  }
  return { data, next_cursor: next };
}

/**
 * Marks the delivery as being sent until `untilMs`, checked on `entry`: of several copies of the
 * same job, only one gets the claimed entry back (the others get null), so one POST per attempt.
 */
export async function claimDeliveryAttempt(
  kv: Deno.Kv,
  entry: Deno.KvEntry<WebhookDelivery>,
  untilMs: number,
): Promise<Deno.KvEntry<WebhookDelivery> | null> {
  const claimed = { ...entry.value, in_flight_until: untilMs };
  const key = [DELIVERIES, entry.value.id];
  const res = await kv.atomic().check(entry).set(key, claimed).commit();
  return res.ok ? { key, value: claimed, versionstamp: res.versionstamp } : null;
}

export interface AttemptOutcome {
  attempt: WebhookAttempt;
  status: DeliveryStatus;
  retry_index: number;
  next_attempt_at: number | null;
}

/**
 * Records one attempt, checked on the versionstamp the attempt started from: a duplicate
 * worker that attempted the same version gets false and records nothing.
 */
export async function recordDeliveryAttempt(
  kv: Deno.Kv,
  entry: Deno.KvEntry<WebhookDelivery>,
  outcome: AttemptOutcome,
  nowMs: number,
): Promise<boolean> {
  const d = entry.value;
  const attempt = {
    ...outcome.attempt,
    response_excerpt: outcome.attempt.response_excerpt.slice(0, MAX_EXCERPT_CHARS),
    error: outcome.attempt.error?.slice(0, MAX_EXCERPT_CHARS) ?? null,
  };
  const next: WebhookDelivery = {
    ...d,
    status: outcome.status,
    attempts: [...d.attempts, attempt].slice(-MAX_ATTEMPTS_KEPT),
    attempt_count: d.attempt_count + 1,
    retry_index: outcome.retry_index,
    next_attempt_at: outcome.status === "pending" ? outcome.next_attempt_at : null,
    in_flight_until: null,
    requeued_at: null,
    updated_at: nowMs,
  };
  const op = kv.atomic().check(entry).set([DELIVERIES, d.id], next);
  moveDueKey(op, d, next);
  return (await op.commit()).ok;
}

function moveDueKey(op: Deno.AtomicOperation, before: WebhookDelivery, after: WebhookDelivery) {
  if (before.status === "pending" && before.next_attempt_at !== null) {
    op.delete([DUE, before.next_attempt_at, before.id]);
  }
  if (after.status === "pending" && after.next_attempt_at !== null) {
    op.set([DUE, after.next_attempt_at, after.id], after.id);
  }
}

/**
 * Sends the delivery again from the start of the backoff schedule (same webhook-id).
 * The caller enqueues the attempt. Null when the org has no such delivery.
 */
export async function resendDelivery(
  kv: Deno.Kv,
  orgId: string,
  deliveryId: string,
  nowMs: number,
): Promise<WebhookDelivery | null> {
  for (let i = 0; i < 10; i++) {
    const entry = await getDeliveryEntry(kv, deliveryId);
    if (!entry.value || entry.value.org_id !== orgId) return null;
    const next: WebhookDelivery = {
      ...entry.value,
      status: "pending",
      retry_index: 0,
      next_attempt_at: nowMs,
      in_flight_until: null,
      requeued_at: null,
      updated_at: nowMs,
    };
    const op = kv.atomic().check(entry).set([DELIVERIES, deliveryId], next);
    moveDueKey(op, entry.value, next);
    if ((await op.commit()).ok) return next;
  }
  throw new Error(`Delivery ${deliveryId} is being changed concurrently; try again`);
}

/**
 * Stamps an overdue delivery as re-enqueued at `nowMs` (its next attempt becomes `nowMs`, so it
 * moves to the back of the due list), checked on `entry`; the caller adds the attempt job to the
 * same `atomic`, so of racing sweeps one enqueues.
 */
export function requeueDeliveryMutations(
  atomic: Deno.AtomicOperation,
  entry: Deno.KvEntry<WebhookDelivery>,
  nowMs: number,
): void {
  const next: WebhookDelivery = { ...entry.value, next_attempt_at: nowMs, requeued_at: nowMs };
  atomic.check(entry).set([DELIVERIES, entry.value.id], next);
  moveDueKey(atomic, entry.value, next);
}

/** Ids of pending deliveries due by `nowMs`, oldest first: for a sweep that re-enqueues lost work. */
export async function listDueDeliveryIds(
  kv: Deno.Kv,
  nowMs: number,
  limit = 100,
): Promise<string[]> {
  const ids: string[] = [];
  const iter = kv.list<string>({ start: [DUE], end: [DUE, nowMs + 1] }, { limit });
  for await (const e of iter) ids.push(e.value);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Events: one fan-out per event, so a duplicate notify job creates no second set of deliveries.

export interface WebhookEventRecord {
  delivery_ids: string[];
  created_at: number;
}

/** The event's fan-out record (e.g. key "gen_…:video.generation.completed"), or null before it. */
export async function getWebhookEvent(
  kv: Deno.Kv,
  eventKey: string,
): Promise<WebhookEventRecord | null> {
  return (await kv.get<WebhookEventRecord>([EVENTS, eventKey])).value;
}

/**
 * Records the event's fan-out in `atomic`, together with its deliveries: the commit fails when
 * another worker recorded the same event first, so each event is fanned out exactly once.
 */
export function addWebhookEventMutations(
  atomic: Deno.AtomicOperation,
  eventKey: string,
  deliveryIds: string[],
  nowMs: number,
): void {
  const key = [EVENTS, eventKey];
  const value: WebhookEventRecord = { delivery_ids: deliveryIds, created_at: nowMs };
  atomic.check({ key, versionstamp: null }).set(key, value);
}

// ---------------------------------------------------------------------------------------------
// Owed events: written with the change that causes an event, cleared with its fan-out, so a sweep
// can find events whose notify job was lost without scanning every generation.

export interface OwedEvent {
  generationId: string;
  owedAt: number;
  /** When a sweep last re-enqueued its notify job (null: never). */
  requeuedAt: number | null;
  /** The mark's entry, for a checked update. */
  entry: Deno.KvEntry<unknown>;
}

interface OwedMark {
  generationId: string;
  requeuedAt: number | null;
}

/** Marks the generation's event as owed since `owedAtMs`, in the commit that causes it. */
export function addOwedEventMutations(
  atomic: Deno.AtomicOperation,
  generationId: string,
  owedAtMs: number,
): void {
  atomic.set([OWED, owedAtMs, generationId], { generationId, requeuedAt: null } as OwedMark);
}

/** Stamps a mark as re-enqueued now, checked so racing sweeps enqueue its job once. */
export function markOwedEventRequeuedMutations(
  atomic: Deno.AtomicOperation,
  owed: OwedEvent,
  nowMs: number,
): void {
  atomic.check(owed.entry).set(owed.entry.key, {
    generationId: owed.generationId,
    requeuedAt: nowMs,
  } as OwedMark);
}

/** Clears the mark, in the commit that records the event's fan-out (or alone, when stale). */
export function clearOwedEventMutations(
  atomic: Deno.AtomicOperation,
  generationId: string,
  owedAtMs: number,
): void {
  atomic.delete([OWED, owedAtMs, generationId]);
}

/** Events owed since `beforeMs` or earlier, oldest first. */
export async function listOwedEvents(
  kv: Deno.Kv,
  beforeMs: number,
  limit = 100,
): Promise<OwedEvent[]> {
  const out: OwedEvent[] = [];
  const iter = kv.list<OwedMark>({ start: [OWED], end: [OWED, beforeMs + 1] }, { limit });
  for await (const e of iter) {
    out.push({
      generationId: e.key[2] as string,
      owedAt: e.key[1] as number,
      requeuedAt: e.value?.requeuedAt ?? null,
      entry: e,
    });
  }
  return out;
}

export type { Page };

/**
 * Seals every webhook secret that is in clear (stored before sealing) or sealed under a former
 * SECRET_KEY, each with a checked write. Returns how many records changed. Idempotent.
 */
export async function resealWebhookSecrets(kv: Deno.Kv, box: SecretBox): Promise<number> {
  const reseal = async (v: string) => box.isCurrent(v) ? v : await box.seal(await box.open(v));
  let changed = 0;
  for await (const e of kv.list<WebhookEndpointRecord>({ prefix: [ENDPOINTS] })) {
    const r = e.value;
    const next: WebhookEndpointRecord = {
      ...r,
      secret: await reseal(r.secret),
      previous_secret: r.previous_secret &&
        { ...r.previous_secret, secret: await reseal(r.previous_secret.secret) },
    };
    if (next.secret === r.secret && next.previous_secret?.secret === r.previous_secret?.secret) {
      continue;
    }
    if ((await kv.atomic().check(e).set(e.key, next).commit()).ok) changed++;
  }
  for await (const e of kv.list<DefaultSecret>({ prefix: [DEFAULT_SECRETS] })) {
    const secret = await reseal(e.value.secret);
    if (secret === e.value.secret) continue;
    if ((await kv.atomic().check(e).set(e.key, { ...e.value, secret }).commit()).ok) changed++;
  }
  return changed;
}

/** The org's deliveries created between two times (ms), oldest first, at most `limit` read. */
export async function listDeliveriesBetween(
  kv: Deno.Kv,
  orgId: string,
  fromMs: number,
  toMs: number,
  limit = 200,
): Promise<WebhookDelivery[]> {
  const ids: string[] = [];
  const iter = kv.list<string>({
    start: [ORG_DELIVERIES, orgId, idAt("whd", fromMs)],
    end: [ORG_DELIVERIES, orgId, idAt("whd", toMs + 1)],
  }, { limit });
  for await (const e of iter) ids.push(e.value);
  const out: WebhookDelivery[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const entries = await kv.getMany<WebhookDelivery[]>(
      ids.slice(i, i + 10).map((id) => [DELIVERIES, id]),
    );
    for (const e of entries) if (e.value) out.push(e.value);
  }
  return out;
}
