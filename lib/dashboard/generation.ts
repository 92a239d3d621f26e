import { formatCents } from "../format.ts";
import type { Services } from "../services.ts";
import { getGeneration } from "../generations/service.ts";
import type { GenerationRecord } from "../db/generations.ts";
import { type LedgerEntry, listLedgerBetween } from "../db/ledger.ts";
import { listDeliveriesBetween, type WebhookDelivery } from "../db/webhooks.ts";
import { signVideoUrl } from "../storage/mod.ts";
import { isId } from "../ids.ts";
import { NotFound } from "../errors.ts";

/** Everything the generation page shows about one generation of the org. */
export interface GenerationView {
  g: GenerationRecord;
  /** Its charge, settlement and refund entries. */
  ledger: LedgerEntry[];
  /** Webhook deliveries whose event names it. */
  deliveries: WebhookDelivery[];
  /** A same-origin signed link to the video, valid for an hour; null until completed. */
  videoPath: string | null;
  timeline: { label: string; at: number; detail?: string }[];
}

// Webhooks and refunds follow the end within moments; a generous margin keeps late retries.
const AFTER_END_MS = 24 * 3600_000;

export async function loadGenerationView(
  services: Services,
  orgId: string,
  id: string,
): Promise<GenerationView> {
  if (!isId("gen", id)) throw new NotFound("No such generation", "id");
  const g = await getGeneration(services.kv, orgId, id);
  const until = (g.completed_at ?? services.now()) + AFTER_END_MS;
  const [ledger, deliveries] = await Promise.all([
    listLedgerBetween(services.kv, orgId, g.created_at, until)
      .then((rows) => rows.filter((e) => e.generation_id === g.id)),
    listDeliveriesBetween(services.kv, orgId, g.created_at, until)
      .then((rows) => rows.filter((d) => d.body.includes(`"${g.id}"`))),
  ]);
  const expires = Math.floor(services.now() / 1000) + 3600;
  const videoPath = g.status === "completed" && g.output
    ? await signVideoUrl("", services.config.secretKey, g.id, expires)
    : null;
  return { g, ledger, deliveries, videoPath, timeline: timelineOf(g, ledger) };
}

/** Submitted, each provider attempt, the end, and refunds, in time order. */
export function timelineOf(g: GenerationRecord, ledger: LedgerEntry[]): GenerationView["timeline"] {
  const t: GenerationView["timeline"] = [{ label: "Submitted", at: g.created_at }];
  for (const a of g.attempts) {
    t.push({ label: `Sent to ${a.provider}`, at: a.started_at, detail: a.model });
    if (a.ended_at !== null && a.error) {
      // A run stopped on request was not a failure of the provider: say what happened.
      const cancelled = g.status === "cancelled" && /cancel/i.test(a.error);
      t.push(
        cancelled
          ? { label: `Cancelled at ${a.provider}`, at: a.ended_at }
          : { label: `${a.provider} failed`, at: a.ended_at, detail: a.error },
      );
    }
  }
  if (g.completed_at !== null) t.push({ label: capitalize(g.status), at: g.completed_at });
  for (const e of ledger) {
    if (e.kind === "refund") {
      t.push({ label: "Refunded", at: e.created_at, detail: formatCents(e.amount_cents) });
    }
  }
  return t.sort((a, b) => a.at - b.at);
}

const capitalize = (s: string) => s[0].toUpperCase() + s.slice(1);

/** What a user can do about a failure, from the provider's words. */
export function failureAdvice(message: string | null): string | null {
  if (!message) return null;
  const m = message.toLowerCase();
  if (/moderat|policy|safety|blocked/.test(m)) {
    return "The provider refused the prompt or image. Rephrase it and try again.";
  }
  if (/rate|429|overloaded|unavailable|busy|5\d\d/.test(m)) {
    return "The provider was busy or down. Try again in a minute, or pick another model.";
  }
  if (/timed out|timeout/.test(m)) {
    return "The provider took too long. Try again, or pick a faster model.";
  }
  if (/image_url|image/.test(m)) {
    return "The start image could not be used. Check that its URL is public and is a PNG or JPEG.";
  }
  return "Nothing was charged for it. Try again; if it keeps failing, pick another model.";
}

/** The request that made this generation, as the API takes it. */
export function requestBodyOf(g: GenerationRecord): Record<string, unknown> {
  const o = g.options;
  return Object.fromEntries(
    Object.entries({
      model: g.candidates.length > 1 ? undefined : g.candidates[0]?.model ?? g.model,
      models: g.candidates.length > 1 ? [...new Set(g.candidates.map((c) => c.model))] : undefined,
      prompt: o.prompt,
      duration: o.duration,
      resolution: o.resolution,
      aspect_ratio: o.aspect_ratio,
      image_url: o.image_url,
      negative_prompt: o.negative_prompt,
      seed: o.seed,
      audio: o.audio,
      metadata: g.metadata ?? undefined,
    }).filter(([, v]) => v !== undefined),
  );
}
