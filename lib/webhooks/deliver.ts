import {
  type AttemptOutcome,
  claimDeliveryAttempt,
  getDeliveryEntry,
  getEndpointRecord,
  getOrCreateDefaultSecret,
  recordDeliveryAttempt,
  signingSecrets,
  type WebhookAttempt,
  type WebhookDelivery,
} from "../db/webhooks.ts";
import type { SecretBox } from "../secret_box.ts";
import { guardedFetch, OutboundRequestError, type Resolver } from "../net/ssrf.ts";
import { webhookHeaders } from "./sign.ts";

/** Sending one webhook: sign, POST, record the attempt, schedule the retry. */

export const GENERATION_COMPLETED = "video.generation.completed";

/** The API.md compat fields of a generation that the event needs; the rest goes into `data`. */
export interface GenerationForEvent {
  id: string;
  status: string;
  output_url: string | null;
  error_message: string | null;
  [field: string]: unknown;
}

/** The `video.generation.completed` body (API.md, "Webhooks"): compat fields plus the full object. */
export function generationEventPayload(generation: GenerationForEvent) {
  return {
    eventType: GENERATION_COMPLETED,
    generationId: generation.id,
    status: generation.status,
    outputUrl: generation.output_url,
    errorMessage: generation.error_message,
    data: generation,
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Waits before each retry: the first within seconds, about a day in all, then give up. */
export const RETRY_SCHEDULE_MS = [
  5 * SECOND,
  1 * MINUTE,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  8 * HOUR,
  8 * HOUR,
];
const JITTER = 0.2; // ±20%, so endpoints that failed together are not retried together
const TIMEOUT_MS = 10 * SECOND;
const RESPONSE_BYTES = 4096;
/** A job that arrives this early (queue delay rounding) still counts as due. */
const EARLY_TOLERANCE_MS = 2 * SECOND;
/** How long another copy of the job keeps off while one is sending: the timeout plus margin. */
export const IN_FLIGHT_MS = TIMEOUT_MS + 20 * SECOND;

export interface DeliveryDeps {
  nowMs: () => number;
  /** False in production (config.production): endpoints on private networks are refused. */
  allowPrivate: boolean;
  fetch?: typeof fetch;
  resolve?: Resolver;
  /** In [0, 1); jitters the backoff. */
  random?: () => number;
  /** Per attempt; 10 s unless a test needs it shorter. */
  timeoutMs?: number;
  /** Opens the stored signing secrets (sealed under SECRET_KEY). */
  box?: SecretBox;
}

/**
 * `done` true: nothing more to do. `retryInMs`: enqueue another attempt after that delay.
 * Neither: another copy of the job owns the next attempt (it lost the claim race to it).
 */
export interface DeliveryResult {
  done: boolean;
  retryInMs?: number;
}

/** Delay before the next try after `retryIndex` failed tries, or null when it is time to give up. */
export function retryDelayMs(retryIndex: number, random: () => number): number | null {
  const base = RETRY_SCHEDULE_MS[retryIndex];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** A receiver's Retry-After in seconds (429/503), capped so one answer cannot park a delivery. */
function retryAfterMs(headers: Headers): number {
  const seconds = Number(headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * SECOND, 8 * HOUR) : 0;
}

async function sendOnce(
  d: WebhookDelivery,
  secrets: string[],
  deps: DeliveryDeps,
  nowMs: number,
): Promise<{ attempt: WebhookAttempt; ok: boolean; permanent: boolean; waitMs?: number }> {
  const headers = {
    "content-type": "application/json",
    "user-agent": "Pipevideo-Webhooks/1.0",
    ...(await webhookHeaders(secrets, d.msg_id, Math.floor(nowMs / 1000), d.body)),
  };
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await guardedFetch(d.url, { method: "POST", headers, body: d.body }, {
      allowPrivate: deps.allowPrivate,
      resolve: deps.resolve,
      fetch: deps.fetch,
      maxBytes: RESPONSE_BYTES,
      timeoutMs: deps.timeoutMs ?? TIMEOUT_MS,
      maxRedirects: 0, // a redirect is a misconfigured endpoint, and could point inside
    });
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok,
      permanent: false,
      waitMs: retryAfterMs(res.headers),
      attempt: {
        at: nowMs,
        status_code: res.status,
        duration_ms: took(),
        error: ok ? null : `Endpoint answered ${res.status}`,
        response_excerpt: new TextDecoder().decode(res.body),
      },
    };
  } catch (err) {
    if (!(err instanceof OutboundRequestError)) throw err;
    // A refused URL stays refused: retrying it only delays telling the user.
    const permanent = err.reason === "unsafe_url" || err.reason === "unsupported_url";
    return {
      ok: false,
      permanent,
      attempt: {
        at: nowMs,
        status_code: null,
        duration_ms: took(),
        error: err.message,
        response_excerpt: "",
      },
    };
  }
}

/** The secrets to sign with, or why the delivery cannot be sent at all. */
async function secretsFor(
  kv: Deno.Kv,
  d: WebhookDelivery,
  nowMs: number,
  box: SecretBox | undefined,
): Promise<{ secrets: string[] } | { refusal: string }> {
  if (d.endpoint_id === null) {
    return { secrets: [await getOrCreateDefaultSecret(kv, d.org_id, nowMs, box)] };
  }
  const endpoint = await getEndpointRecord(kv, d.org_id, d.endpoint_id);
  if (!endpoint) return { refusal: "The endpoint was deleted" };
  if (!endpoint.enabled) return { refusal: "The endpoint is disabled" };
  return { secrets: await signingSecrets(endpoint, nowMs, box) };
}

/**
 * Makes the delivery's next attempt if it is due. Idempotent: a finished delivery, one that is
 * not due, or one another worker is sending is left alone, and each attempt is recorded once.
 */
export async function attemptDelivery(
  kv: Deno.Kv,
  deliveryId: string,
  deps: DeliveryDeps,
): Promise<DeliveryResult> {
  const entry = await getDeliveryEntry(kv, deliveryId);
  const d = entry.value;
  if (!d || d.status !== "pending") return { done: true };
  const now = deps.nowMs();
  // Run early or while marked in flight, the job comes back then rather than ending: the job is
  // one per delivery, so this copy is its only one (a takeover after its runner died mid-send
  // comes at the lease's end, before the mark's), and re-enqueueing it merges.
  if (d.next_attempt_at !== null && d.next_attempt_at - now > EARLY_TOLERANCE_MS) {
    return { done: false, retryInMs: d.next_attempt_at - now };
  }
  if (d.in_flight_until !== null && d.in_flight_until > now) {
    return { done: false, retryInMs: d.in_flight_until - now };
  }
  const claimed = await claimDeliveryAttempt(
    kv,
    entry as Deno.KvEntry<WebhookDelivery>,
    now + IN_FLIGHT_MS,
  );
  if (!claimed) return { done: false };

  const signing = await secretsFor(kv, d, now, deps.box);
  const sent = "refusal" in signing
    ? {
      ok: false,
      permanent: true,
      attempt: {
        at: now,
        status_code: null,
        duration_ms: 0,
        error: signing.refusal,
        response_excerpt: "",
      },
    }
    : await sendOnce(d, signing.secrets, deps, now);

  const scheduled = sent.ok || sent.permanent
    ? null
    : retryDelayMs(d.retry_index, deps.random ?? Math.random);
  const delay = scheduled === null ? null : Math.max(scheduled, sent.waitMs ?? 0);
  const outcome: AttemptOutcome = {
    attempt: sent.attempt,
    status: sent.ok ? "succeeded" : delay === null ? "failed" : "pending",
    retry_index: sent.ok ? d.retry_index : d.retry_index + 1,
    next_attempt_at: delay === null ? null : now + delay,
  };
  if (!await recordDeliveryAttempt(kv, claimed, outcome, deps.nowMs())) {
    // Changed while we sent (e.g. a resend): whoever changed it owns what comes next.
    const fresh = (await getDeliveryEntry(kv, deliveryId)).value;
    return { done: !fresh || fresh.status !== "pending" };
  }
  return outcome.status === "pending" ? { done: false, retryInMs: delay! } : { done: true };
}
