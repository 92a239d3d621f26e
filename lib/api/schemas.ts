import { z } from "zod";

/**
 * Wire schemas the /v1 surfaces add to the (compat) generation object (API.md, "Round 3
 * additions"). lib/openapi.ts documents them and lib/api/generation.ts's types are inferred
 * from them, so the document and the responses cannot drift.
 */

export const generationUrlsSchema = z.object({
  get: z.string().describe("GET: this generation"),
  cancel: z.string().describe("POST: cancel it (refunds)"),
  events: z.string().describe("GET (text/event-stream): its changes as server-sent events"),
});

export const routingSchema = z.object({
  provider: z.string().describe("The provider the current attempt runs on"),
  attempt: z.int().min(0).describe("Index into candidates of the current attempt"),
  candidates: z.array(z.object({ model: z.string(), provider: z.string() }))
    .describe("Every model + provider the generation may run on, in the order tried"),
});

/** Fields added to the (compat) generation object; the compat fields keep their meaning. */
export const generationExtras = {
  progress: z.int().min(0).max(100).describe(
    "0–100: the provider's figure where it reports one, else an estimate; 100 once completed",
  ),
  queue_position: z.int().min(0).optional().describe("Place in the provider's queue, when known"),
  duration: z.number().describe("Seconds of video asked for"),
  resolution: z.string(),
  aspect_ratio: z.string(),
  routing: routingSchema.describe("The routing decision"),
  urls: generationUrlsSchema,
};
