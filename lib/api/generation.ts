import type { z } from "zod";
import { type GenerationRecord, isTerminal } from "../db/generations.ts";
import { type ApiGeneration, toApiGeneration } from "../generations/service.ts";
import type { Config } from "../config.ts";
import type { generationExtras } from "./schemas.ts";
import { progressOf } from "./progress.ts";

/**
 * The generation as every /v1 surface shows it: the (compat) object of toApiGeneration, field
 * for field, plus the additive fields of generationExtras (cost from the start, progress, the
 * options it runs with, the routing decision and its URLs).
 */
export type PresentedGeneration =
  & ApiGeneration
  & z.infer<z.ZodObject<typeof generationExtras>>;

export interface PresentContext {
  publicUrl: string;
  secretKey: string;
  nowMs: number;
}

export async function presentGeneration(
  g: GenerationRecord,
  ctx: PresentContext,
): Promise<PresentedGeneration> {
  const base = await toApiGeneration(g, ctx);
  const self = `${ctx.publicUrl}/v1/video/generations/${g.id}`;
  const candidate = g.candidates[g.attempt] ?? g.candidates[0];
  return {
    ...base,
    // Charged at submit: shown from the start; the settled figure once terminal.
    cost_cents: base.cost_cents ??
      (isTerminal(g) ? null : g.charged_cents - g.refunded_cents),
    progress: progressOf(g, ctx.nowMs),
    duration: g.options.duration,
    resolution: g.options.resolution,
    aspect_ratio: g.options.aspect_ratio,
    routing: {
      provider: candidate.provider,
      attempt: g.attempt,
      candidates: g.candidates.map((c) => ({ model: c.model, provider: c.provider })),
    },
    urls: { get: self, cancel: `${self}/cancel`, events: `${self}/events` },
  };
}

/** presentGeneration with this process's URL, secret and clock. */
export function generationPresenter(
  services: { config: Pick<Config, "publicUrl" | "secretKey">; now: () => number },
): (g: GenerationRecord) => Promise<PresentedGeneration> {
  const { publicUrl, secretKey } = services.config;
  return (g) => presentGeneration(g, { publicUrl, secretKey, nowMs: services.now() });
}
