import { generationKey, type GenerationRecord, isTerminal } from "../db/generations.ts";

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
