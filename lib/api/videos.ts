import {
  type GenerationRecord,
  isTerminal,
  loadGeneration,
  markGenerationDeleted,
} from "../db/generations.ts";
import { cancelGeneration, getGeneration } from "../generations/service.ts";
import { Conflict, NotFound } from "../errors.ts";
import { backendFor } from "../storage/mod.ts";
import type { Services } from "../services.ts";
import { generationPresenter } from "./generation.ts";
import { toVideo, type Video } from "./openai.ts";

/** Generations as OpenAI `video` objects for this process (URL, secret, clock, retention). */
export function videoPresenter(services: Pick<Services, "kv" | "config" | "now">) {
  const present = generationPresenter(services);
  const of = async (g: GenerationRecord): Promise<Video> =>
    toVideo(g, await present(g), services.config.VIDEO_RETENTION_DAYS);
  return {
    of,
    /** The org's video; another org's, a deleted one or an unknown id is NotFound. */
    async byId(orgId: string, id: string): Promise<Video> {
      return of(await getVideoRecord(services.kv, orgId, id));
    },
  };
}

/** The org's generation as this surface sees it: a deleted one is gone. */
export async function getVideoRecord(
  kv: Deno.Kv,
  orgId: string,
  id: string,
): Promise<GenerationRecord> {
  const g = await getGeneration(kv, orgId, id);
  if (g.deleted_at) throw new NotFound(`No video ${id}`, "id");
  return g;
}

/**
 * DELETE /v1/videos/{id}: a generation still running is cancelled first (and refunded, as any
 * cancel); then it is marked deleted and its stored video removed. Its ledger entries stay.
 */
export async function deleteVideo(services: Services, orgId: string, id: string): Promise<void> {
  const g = await getVideoRecord(services.kv, orgId, id);
  if (!isTerminal(g)) {
    try {
      await cancelGeneration(services.generation, orgId, id);
    } catch (err) {
      // It ended meanwhile: delete it as it is. Any other refusal (not cancellable) stands.
      if (!(err instanceof Conflict && err.code === "generation_finished")) throw err;
    }
  }
  for (let i = 0; i < 10; i++) {
    const entry = await loadGeneration(services.kv, id);
    if (!entry || entry.value.deleted_at) return;
    if (await markGenerationDeleted(services.kv, entry, services.now())) break;
  }
  await backendFor(services.config).remove(id);
}
