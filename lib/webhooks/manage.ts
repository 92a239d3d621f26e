import { BadRequest, Conflict, NotFound } from "../errors.ts";
import { configSecretBox } from "../secret_box.ts";
import type { Services } from "../services.ts";
import { enqueueInAtomic } from "../jobs.ts";
import { assertPublicUrl } from "../net/ssrf.ts";
import {
  createDeliveryMutations,
  createEndpoint,
  deleteEndpoint,
  getDelivery,
  getEndpoint,
  getEndpointRecord,
  getOrCreateDefaultSecret,
  listDeliveries,
  listEndpoints,
  MAX_ENDPOINTS_PER_ORG,
  type Page,
  resendDelivery,
  rotateEndpointSecret,
  setEndpointEnabled,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../db/webhooks.ts";
import { ATTEMPT_JOB, type WebhookDeps } from "./notify.ts";
import { isTypedEvent, TYPED_EVENTS } from "./events.ts";

/**
 * What the dashboard and API do with an org's webhooks. Callers have already checked the role;
 * every function is scoped to `orgId`, so another org's id is simply NotFound.
 */

export const TEST_EVENT = "webhook.test";
export const MAX_URL_CHARS = 2048;
export const MAX_DESCRIPTION_CHARS = 200;

/**
 * Adds an endpoint after checking its URL (http(s); in production, no private, loopback or
 * link-local target). Returns its `whsec_` secret, to be shown once. Bad input: BadRequest with
 * param "url" or "description", and nothing is written.
 */
export async function registerEndpoint(
  deps: WebhookDeps,
  orgId: string,
  input: { url: string; description?: string; events?: string[] },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const events = [...new Set(input.events ?? [])];
  const unknown = events.find((e) => !isTypedEvent(e));
  if (unknown !== undefined) {
    throw new BadRequest(
      `Unknown event ${unknown}; choose from ${TYPED_EVENTS.join(", ")}`,
      "events",
    );
  }
  const url = input.url.trim();
  const description = (input.description ?? "").trim();
  if (!url) throw new BadRequest("Enter the URL that should receive events", "url");
  if (url.length > MAX_URL_CHARS) {
    throw new BadRequest(`The URL is longer than ${MAX_URL_CHARS} characters`, "url");
  }
  if (description.length > MAX_DESCRIPTION_CHARS) {
    throw new BadRequest(
      `The description is longer than ${MAX_DESCRIPTION_CHARS} characters`,
      "description",
    );
  }
  const parsed = await assertPublicUrl(url, {
    allowPrivate: deps.allowPrivate,
    resolve: deps.resolve,
    param: "url",
  });
  if ((await listEndpoints(deps.kv, orgId)).length >= MAX_ENDPOINTS_PER_ORG) {
    throw new BadRequest(
      `An organization can have at most ${MAX_ENDPOINTS_PER_ORG} endpoints; delete one first`,
      "url",
    );
  }
  return await createEndpoint(
    deps.kv,
    orgId,
    { url: parsed.href, description, events },
    deps.now(),
    deps.box,
  );
}

export async function requireEndpoint(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
): Promise<WebhookEndpoint> {
  const endpoint = await getEndpoint(deps.kv, orgId, endpointId);
  if (!endpoint) throw new NotFound(`No webhook endpoint ${endpointId}`, "id");
  return endpoint;
}

/** A new secret, returned once; the old one keeps signing for 24 hours. */
export async function rotateSecret(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const r = await rotateEndpointSecret(deps.kv, orgId, endpointId, deps.now(), deps.box);
  if (!r) throw new NotFound(`No webhook endpoint ${endpointId}`, "id");
  return r;
}

export async function setEnabled(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
  enabled: boolean,
): Promise<WebhookEndpoint> {
  const r = await setEndpointEnabled(deps.kv, orgId, endpointId, enabled, deps.now());
  if (!r) throw new NotFound(`No webhook endpoint ${endpointId}`, "id");
  return r;
}

export async function removeEndpoint(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
): Promise<void> {
  if (!await deleteEndpoint(deps.kv, orgId, endpointId)) {
    throw new NotFound(`No webhook endpoint ${endpointId}`, "id");
  }
}

/** The body of a `webhook.test` event: shaped like a real one so receivers can try their code. */
export function testEventPayload(endpointId: string, nowMs: number) {
  return {
    eventType: TEST_EVENT,
    endpointId,
    message: "A test event from Pipevideo. If you can read this, your endpoint works.",
    createdAt: Math.floor(nowMs / 1000),
  };
}

/** Queues a `webhook.test` delivery to the endpoint (one commit: delivery + attempt job). */
export async function sendTestEvent(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
): Promise<WebhookDelivery> {
  const endpoint = await getEndpointRecord(deps.kv, orgId, endpointId);
  if (!endpoint) throw new NotFound(`No webhook endpoint ${endpointId}`, "id");
  if (!endpoint.enabled) {
    throw new Conflict("This endpoint is disabled; enable it to send a test event");
  }
  const now = deps.now();
  const a = deps.kv.atomic();
  const id = createDeliveryMutations(a, {
    orgId,
    endpointId,
    url: endpoint.url,
    eventType: TEST_EVENT,
    payload: testEventPayload(endpointId, now),
    nowMs: now,
  });
  enqueueInAtomic(a, { type: ATTEMPT_JOB, id });
  if (!(await a.commit()).ok) throw new Error(`Could not create the test delivery ${id}`);
  return (await getDelivery(deps.kv, orgId, id))!;
}

/**
 * Sends a finished delivery again from the start of the backoff (same webhook-id). If the
 * process stops before the job is queued, the delivery is due and the minute sweep sends it.
 */
export async function resend(
  deps: WebhookDeps,
  orgId: string,
  deliveryId: string,
): Promise<WebhookDelivery> {
  const current = await getDelivery(deps.kv, orgId, deliveryId);
  if (!current) throw new NotFound(`No webhook delivery ${deliveryId}`, "delivery_id");
  if (current.status === "pending") {
    throw new Conflict("This delivery is still being sent; wait for it to finish");
  }
  const d = await resendDelivery(deps.kv, orgId, deliveryId, deps.now());
  if (!d) throw new NotFound(`No webhook delivery ${deliveryId}`, "delivery_id");
  await deps.jobs.enqueue({ type: ATTEMPT_JOB, id: deliveryId });
  return d;
}

/** The org's secret for per-request `webhook_url` deliveries (GET /v1/webhooks/secret). */
export function defaultSecret(services: Pick<Services, "kv" | "now" | "config">, orgId: string) {
  const box = configSecretBox(services.config);
  return getOrCreateDefaultSecret(services.kv, orgId, services.now(), box);
}

export interface WebhooksOverview {
  endpoints: WebhookEndpoint[];
  recent: WebhookDelivery[];
}

/** The /webhooks page: every endpoint and the newest deliveries (endpoints and per-request). */
export async function webhooksOverview(
  deps: WebhookDeps,
  orgId: string,
): Promise<WebhooksOverview> {
  const [endpoints, recent] = await Promise.all([
    listEndpoints(deps.kv, orgId),
    listDeliveries(deps.kv, orgId, { limit: 20 }),
  ]);
  return { endpoints, recent: recent.data };
}

/** One endpoint with a page of its deliveries, newest first. */
export async function endpointDeliveries(
  deps: WebhookDeps,
  orgId: string,
  endpointId: string,
  cursor: string | null,
): Promise<{ endpoint: WebhookEndpoint; deliveries: Page<WebhookDelivery> }> {
  const endpoint = await requireEndpoint(deps, orgId, endpointId);
  const deliveries = await listDeliveries(deps.kv, orgId, { endpointId, limit: 20, cursor });
  return { endpoint, deliveries };
}
