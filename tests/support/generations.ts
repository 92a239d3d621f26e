/**
 * Real parts for generation tests: a file-copying video store, a scripted adapter that fails on
 * demand (going through the same code paths as the real ones), a small catalog and a clock.
 */
import { type Model, MODELS } from "../../lib/catalog/mod.ts";
import { createOrg } from "../../lib/db/orgs.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { generationKey, type GenerationRecord, isTerminal } from "../../lib/db/generations.ts";
import {
  type PollResult,
  type ProviderAdapter,
  ProviderError,
  type ProviderId,
  type VideoRequest,
} from "../../lib/providers/types.ts";
import type { GenerationDeps, VideoStore } from "../../lib/generations/deps.ts";
import { submitGeneration as submitWorker } from "../../lib/generations/workers.ts";

export function fileStore(dir: string): VideoStore & { stored: string[] } {
  const stored: string[] = [];
  return {
    stored,
    async storeFromFile(genId, path) {
      await Deno.copyFile(path, `${dir}/${genId}.mp4`);
      stored.push(genId);
      return { bytes: (await Deno.stat(`${dir}/${genId}.mp4`)).size };
    },
    async storeFromUrl(genId, src) {
      const res = await fetch(src.url, { headers: src.headers });
      const bytes = new Uint8Array(await res.arrayBuffer());
      await Deno.writeFile(`${dir}/${genId}.mp4`, bytes);
      stored.push(genId);
      return { bytes: bytes.length };
    },
  };
}

export interface Script {
  /** Thrown by submit (once per listed entry, in order); null means succeed. */
  submit?: (ProviderError | null)[];
  /** Poll answers in order; the last repeats. */
  poll?: PollResult[];
  /** What cancel answers: true (default) when the job is confirmed stopped. */
  cancel?: boolean;
}

/** A provider whose answers are scripted; counts calls so tests can assert on them. */
export function scriptedAdapter(id: ProviderId, script: Script, pollIntervalMs = 10) {
  const calls = { submit: 0, poll: 0, cancel: 0 };
  /** What each submit was asked for, in order. */
  const requests: VideoRequest[] = [];
  const adapter: ProviderAdapter = {
    id,
    name: `scripted ${id}`,
    isConfigured: () => true,
    pollIntervalMs,
    submit(_model, req) {
      requests.push(req);
      const err = (script.submit ?? [])[calls.submit++];
      if (err) return Promise.reject(err);
      return Promise.resolve({ jobId: `job_${calls.submit}` });
    },
    poll() {
      const answers = script.poll ?? [{ status: "running" }];
      return Promise.resolve(answers[Math.min(calls.poll++, answers.length - 1)]);
    },
    cancel() {
      calls.cancel++;
      return Promise.resolve(script.cancel ?? true);
    },
  };
  return { adapter, calls, requests };
}

export function retryable(message = "upstream is down") {
  return new ProviderError(message, true, 503);
}

/** A refusal that another route may not share (an account out of credit): no same-route retry. */
export function rerouting(message = "out of credit") {
  return new ProviderError(message, true, 402);
}

/** A model per test provider, priced per video so the numbers are easy to read. */
export function testModel(slug: string, provider: ProviderId, cents: number): Model {
  return {
    slug,
    name: slug,
    displayName: slug,
    description: "test model",
    maker: { slug: "test", name: "Test" },
    family: { slug: "test", name: "Test" },
    capabilities: {
      durations: [1, 2],
      resolutions: ["360p", "720p"],
      aspectRatios: ["16:9", "1:1"],
      imageInput: false,
      audio: false,
      negativePrompt: false,
      seed: true,
      defaults: { duration: 1, resolution: "360p", aspectRatio: "16:9" },
    },
    routes: [{
      provider,
      upstreamModel: `${slug}-upstream`,
      cost: { unit: "video", cents: { "360p": 0, "720p": 0 } },
      listPrice: { unit: "video", cents: { "360p": cents, "720p": cents * 2 } },
    }],
  };
}

/**
 * The shipped catalog with Google's retired Gemini API Veo routes as they were before their
 * sunset (live, ranked by price): the Gemini adapter's tests still drive them end to end.
 */
export function withGeminiVeoLive(models: Model[] = MODELS): Model[] {
  return models.map((m) => ({
    ...m,
    routes: m.routes.map((r) =>
      r.provider === "gemini" ? { ...r, status: "preview" as const, sunset: undefined } : r
    ),
  }));
}

export function testClock(startMs = Date.UTC(2026, 10, 27, 12)) {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms: number) => (t += ms),
    set: (ms: number) => (t = ms),
  };
}

/**
 * Delivers the submit job at each time the record asks for (a retry's backoff, a lease's end)
 * until the generation leaves pending or `n` deliveries were made; returns the deliveries made.
 */
export async function submitWhenDue(
  deps: GenerationDeps,
  clock: { now: () => number; set: (ms: number) => number },
  id: string,
  n = 10,
): Promise<number> {
  for (let i = 0; i < n; i++) {
    const g = (await deps.kv.get<GenerationRecord>(generationKey(id))).value;
    if (g?.status !== "pending") return i;
    clock.set(Math.max(clock.now(), g.next_check_at ?? 0));
    await submitWorker(deps, id);
  }
  return n;
}

/** Lease renewals on demand: `every` for GenerationDeps, `tick` runs what is due (and waits). */
export function manualTimer() {
  const fns = new Set<() => Promise<unknown>>();
  return {
    every: (_ms: number, fn: () => Promise<unknown>) => {
      fns.add(fn);
      return () => void fns.delete(fn);
    },
    async tick() {
      for (const fn of [...fns]) await fn();
    },
    get running() {
      return fns.size;
    },
  };
}

export function testDeps(
  kv: Deno.Kv,
  dir: string,
  over: Partial<GenerationDeps> = {},
): GenerationDeps {
  return {
    kv,
    adapters: {},
    providerDeps: { fetch, env: {}, workDir: dir },
    storage: fileStore(dir),
    now: Date.now,
    margin: 1.25,
    log: () => {},
    ...over,
  };
}

export async function fundedOrg(kv: Deno.Kv, cents: number, nowMs = Date.now()) {
  const org = await createOrg(kv, { name: "Acme" }, nowMs);
  if (cents > 0) await creditOrg(kv, org.id, cents, { kind: "topup", reason: "test" }, nowMs);
  return org;
}

/** Resolves when the generation is terminal, watching its key (no sleeps). */
export async function waitForTerminal(kv: Deno.Kv, id: string): Promise<GenerationRecord> {
  const stream = kv.watch<[GenerationRecord]>([generationKey(id)]);
  try {
    for await (const [e] of stream) {
      if (e.value && isTerminal(e.value)) return e.value;
    }
    throw new Error("watch ended");
  } finally {
    await stream.cancel().catch(() => {});
  }
}

/** A tiny real image made with ffmpeg (16×16), as PNG or JPEG bytes. */
export async function tinyImage(format: "png" | "jpeg"): Promise<Uint8Array> {
  const { code, stdout, stderr } = await new Deno.Command("ffmpeg", {
    args: [
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "color=c=red:s=16x16",
      "-frames:v",
      "1",
      "-f",
      format === "png" ? "image2" : "mjpeg",
      ...(format === "png" ? ["-c:v", "png"] : []),
      "pipe:1",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`ffmpeg failed: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

/** A model that takes an image, with one route per entry of `routes` (provider, cents). */
export function multiRouteModel(slug: string, routes: [ProviderId, number][]): Model {
  const base = testModel(slug, routes[0][0], routes[0][1]);
  return {
    ...base,
    capabilities: { ...base.capabilities, imageInput: true },
    routes: routes.map(([provider, cents]) => ({
      ...base.routes[0],
      provider,
      upstreamModel: `${slug}-on-${provider}`,
      listPrice: { unit: "video", cents: { "360p": cents, "720p": cents * 2 } },
    })),
  };
}
