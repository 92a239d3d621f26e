import { generationKey, type GenerationRecord, isTerminal } from "../db/generations.ts";
import { getGeneration } from "../generations/service.ts";
import type { Services } from "../services.ts";
import { generationPresenter, type PresentedGeneration } from "./generation.ts";

/**
 * The live view of one generation, shared by GET /v1/video/generations/{id}/events and MCP's
 * generate_video progress: the generation as the API shows it, each time it changes, ending
 * after the terminal state. Changes come from a KV watch on the generation's own record, so a
 * change committed by any instance (worker, sweep, cancel) arrives at once; a re-read every
 * `pollMs` backs the watch up (a KV whose watch fails or lags, and the progress estimate,
 * which moves with time). Nothing here takes a job slot: it only reads.
 */

export interface GenerationEvent {
  /** `<versionstamp>.<progress>`: resumable with Last-Event-ID, distinct per shown state. */
  id: string;
  generation: PresentedGeneration;
}

export interface WatchOptions {
  signal: AbortSignal;
  /** The last event the client saw (Last-Event-ID): that state is not sent again. */
  lastEventId?: string | null;
  /** How often the record is re-read besides the watch. */
  pollMs?: number;
}

export const EVENTS_POLL_MS = 2_000;

export async function* generationEvents(
  services: Pick<Services, "kv" | "config" | "now">,
  orgId: string,
  id: string,
  opts: WatchOptions,
): AsyncGenerator<GenerationEvent> {
  // Another organization's id is NotFound, thrown before anything is streamed.
  await getGeneration(services.kv, orgId, id);
  const present = generationPresenter(services);
  let last = opts.lastEventId ?? null;
  for await (const entry of recordChanges(services.kv, id, opts)) {
    const generation = await present(entry.value);
    const eventId = `${entry.versionstamp}.${generation.progress}`;
    if (eventId !== last) {
      last = eventId;
      yield { id: eventId, generation };
    }
    if (isTerminal(entry.value)) return;
  }
}

/** The record at once, then at each change (watch) or re-read (poll), until aborted. */
async function* recordChanges(
  kv: Deno.Kv,
  id: string,
  opts: WatchOptions,
): AsyncGenerator<Deno.KvEntry<GenerationRecord>> {
  const key = generationKey(id);
  const never = new Promise<never>(() => {});
  let reader: ReadableStreamDefaultReader<Deno.KvEntryMaybe<GenerationRecord>[]> | null = null;
  try {
    reader = kv.watch<[GenerationRecord]>([key]).getReader();
  } catch {
    reader = null; // no watch on this KV: the poll alone
  }
  const nextWatch = () =>
    reader ? reader.read().catch(() => ({ done: true as const, value: undefined })) : never;
  let watched = nextWatch();
  try {
    const first = await kv.get<GenerationRecord>(key);
    if (first.value === null) return;
    yield first as Deno.KvEntry<GenerationRecord>;
    while (!opts.signal.aborted) {
      // Each round's timer is cleared when the watch wins, so none outlives the stream.
      const round = new AbortController();
      const woke = await Promise.race([
        watched.then((r) => ({ kind: "watch" as const, r })),
        abortableDelay(
          opts.pollMs ?? EVENTS_POLL_MS,
          AbortSignal.any([opts.signal, round.signal]),
        ).then(() => ({ kind: "poll" as const })),
      ]);
      round.abort();
      if (opts.signal.aborted) return;
      let entry: Deno.KvEntryMaybe<GenerationRecord>;
      if (woke.kind === "watch") {
        if (woke.r.done) {
          watched = never; // the watch ended: the poll carries on
          continue;
        }
        entry = woke.r.value[0];
        watched = nextWatch();
      } else {
        entry = await kv.get<GenerationRecord>(key);
      }
      if (entry.value === null) return; // deleted: nothing more to show
      yield entry as Deno.KvEntry<GenerationRecord>;
    }
  } finally {
    await reader?.cancel().catch(() => {});
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Server-sent events text for one event: `id:` for Last-Event-ID, the generation as data. */
export function sseEvent(e: GenerationEvent): string {
  return `id: ${e.id}\ndata: ${JSON.stringify(e.generation)}\n\n`;
}

const HEARTBEAT_MS = 15_000;

/**
 * The text/event-stream response of a generation's events: a `retry:` hint, each event, a
 * comment every 15 s so proxies keep the connection, closed after the terminal event. A client
 * that goes away aborts the watch.
 */
export async function generationEventsResponse(
  services: Pick<Services, "kv" | "config" | "now" | "log">,
  orgId: string,
  id: string,
  lastEventId: string | null,
): Promise<Response> {
  // Checked before the stream starts, so an unknown id is a 404 in the API's error shape.
  await getGeneration(services.kv, orgId, id);
  const abort = new AbortController();
  const events = generationEvents(services, orgId, id, { signal: abort.signal, lastEventId });
  const encoder = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => controller.enqueue(encoder.encode(text));
      heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
      (async () => {
        send(`retry: ${EVENTS_POLL_MS}\n\n`);
        for await (const e of events) send(sseEvent(e));
        controller.close();
      })().catch((err) => {
        if (abort.signal.aborted) return;
        services.log("error", "generation events stream failed", {
          generation_id: id,
          error: String(err),
        });
        controller.error(err);
      }).finally(() => clearInterval(heartbeat));
    },
    cancel() {
      clearInterval(heartbeat);
      abort.abort();
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    },
  });
}
