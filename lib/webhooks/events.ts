import type { GenerationStatus } from "../db/generations.ts";

/**
 * Typed webhook events (API.md, "Typed webhook events"), opt-in per endpoint. An endpoint that
 * chooses none keeps the (compat) `video.generation.completed` event (and `balance.low`, as
 * before); one that chooses some gets exactly those, as Standard Webhooks
 * `{type, timestamp, data}` with the API's generation object.
 */
export const TYPED_EVENTS = [
  "video.generation.succeeded",
  "video.generation.failed",
  "video.generation.cancelled",
  "balance.low",
] as const;

export type TypedEvent = typeof TYPED_EVENTS[number];

export function isTypedEvent(s: string): s is TypedEvent {
  return (TYPED_EVENTS as readonly string[]).includes(s);
}

/** The typed event of a terminal generation; null while it runs. */
export function generationEventType(status: GenerationStatus): TypedEvent | null {
  if (status === "completed") return "video.generation.succeeded";
  if (status === "failed") return "video.generation.failed";
  if (status === "cancelled") return "video.generation.cancelled";
  return null;
}

/** The Standard Webhooks body: the type, when it happened (RFC 3339) and the API object. */
export function typedEventPayload<T>(type: TypedEvent, atMs: number, data: T) {
  return { type, timestamp: new Date(atMs).toISOString(), data };
}
