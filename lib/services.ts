import type { Config } from "./config.ts";
import { openKv } from "./db/kv.ts";
import { backgroundLog, jsonLogger, type Logger } from "./http/log.ts";
import { createKvJobQueue, type JobQueue } from "./jobs.ts";
import type { GenerationDeps } from "./generations/deps.ts";
import { ADAPTERS, configuredProviders } from "./providers/registry.ts";
import { loadCatalog } from "./catalog/operator.ts";
import { backendFor, storeVideoFromFile, storeVideoFromUrl } from "./storage/mod.ts";
import { enqueueGenerationEvent } from "./webhooks/notify.ts";
import { instrumentAdapter } from "./telemetry/provider_calls.ts";

/** Everything with an effect that request handlers and workers use, built once per process. */
export interface Services {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  now: () => number;
  fetch: typeof fetch;
  jobs: JobQueue;
  /** What the generation service and its workers use (adapters of configured providers only). */
  generation: GenerationDeps;
}

// Provider videos are large but bounded; anything bigger is refused rather than filling the disk.
const MAX_VIDEO_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

export async function createServices(
  config: Config,
  overrides: Partial<Omit<Services, "config">> = {},
): Promise<Services> {
  // On Deno Deploy the built-in KV (config refuses a DENO_KV_PATH there).
  const kv = overrides.kv ??
    await openKv(config.DENO_DEPLOYMENT_ID ? undefined : config.DENO_KV_PATH);
  const log = overrides.log ?? jsonLogger();
  const now = overrides.now ?? Date.now;
  const fetchFn = overrides.fetch ?? fetch;
  const configured = configuredProviders(config);
  // The local model renders with an ffmpeg subprocess, which Deno Deploy does not allow.
  if (config.DENO_DEPLOYMENT_ID) configured.delete("local");
  const generation: GenerationDeps = overrides.generation ?? {
    kv,
    adapters: Object.fromEntries(
      [...configured].map((id) => [id, instrumentAdapter(ADAPTERS[id])]),
    ),
    providerDeps: { fetch: fetchFn, env: config, workDir: `${config.DATA_DIR}/work` },
    storage: {
      storeFromFile: (genId, path) => storeVideoFromFile(backendFor(config), genId, path),
      storeFromUrl: (genId, src) =>
        storeVideoFromUrl(backendFor(config), genId, src, {
          fetch: fetchFn,
          maxBytes: MAX_VIDEO_BYTES,
          timeoutMs: DOWNLOAD_TIMEOUT_MS,
          allowPrivate: !config.production,
        }),
    },
    now,
    margin: config.PRICE_MARGIN,
    // The shipped catalog plus CATALOG_FILE's entries: a bad file stops start-up here.
    models: await loadCatalog(config.CATALOG_FILE),
    leaseMs: config.WORKER_LEASE_MS,
    // image_url fetches may reach local addresses only outside production.
    allowPrivateUrls: !config.production,
    // The terminal commit also owes the video.generation.completed webhook event.
    onTerminal: enqueueGenerationEvent,
    log: backgroundLog(log),
  };
  return {
    config,
    kv,
    log,
    now,
    fetch: fetchFn,
    jobs: overrides.jobs ??
      createKvJobQueue(kv, backgroundLog(log), { concurrency: config.JOB_CONCURRENCY }),
    generation,
  };
}
