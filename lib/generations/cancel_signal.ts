import { generationKey, type GenerationRecord, isTerminal } from "../db/generations.ts";
import { type GenerationDeps, logOf } from "./deps.ts";

/**
 * An AbortSignal that fires when the generation ends (cancelled, failed by the sweep) while its
 * submission is still running here, so a local render stops at once. It watches the record in
 * KV, so a cancel made by any instance reaches the process that renders. `stop()` when done.
 */
export function cancelSignal(kv: Deno.Kv, id: string): { signal: AbortSignal; stop(): void } {
  const abort = new AbortController();
  const reader = kv.watch<[GenerationRecord]>([generationKey(id)]).getReader();
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const g = value[0].value;
      if (g && isTerminal(g)) return abort.abort(new Error(`generation ${id} ended`));
    }
  })().catch(() => {}); // a closed database ends the watch; the render then runs to its end
  return { signal: abort.signal, stop: () => void reader.cancel().catch(() => {}) };
}

/**
 * After a generation ended without its video (deadline, cancel): asks its provider to drop the
 * job, best effort, which for the local model removes the rendered file.
 */
export async function releaseEndedJob(deps: GenerationDeps, g: GenerationRecord): Promise<void> {
  const adapter = deps.adapters[g.candidates[g.attempt]?.provider];
  if (!g.provider_job_id || !adapter?.cancel) return;
  await adapter.cancel(g.provider_job_id, deps.providerDeps).catch((err) =>
    logOf(deps)(`generation ${g.id}: upstream cancel failed`, err)
  );
}
