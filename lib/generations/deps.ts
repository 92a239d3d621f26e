import type { BackgroundLog } from "../http/log.ts";
import type { Model } from "../catalog/mod.ts";
import type { ProviderAdapter, ProviderDeps, ProviderId } from "../providers/types.ts";
import type { GenerationRecord } from "../db/generations.ts";
import type { FetchImage } from "./image.ts";

/** Where finished videos go (lib/storage.ts in the app); keyed by generation id, overwrite-safe. */
export interface VideoStore {
  storeFromFile(genId: string, path: string): Promise<{ bytes?: number } | void>;
  storeFromUrl(
    genId: string,
    src: { url: string; headers?: Record<string, string> },
  ): Promise<{ bytes?: number } | void>;
}

/** Everything the generation service and workers touch, injected so tests pass real parts. */
export interface GenerationDeps {
  kv: Deno.Kv;
  /** Adapters of the configured providers only: a route whose provider is absent is unavailable. */
  adapters: Partial<Record<ProviderId, ProviderAdapter>>;
  providerDeps: ProviderDeps;
  storage: VideoStore;
  now: () => number;
  /** Price margin over upstream cost (config PRICE_MARGIN). */
  margin: number;
  /** The catalog (shipped plus CATALOG_FILE, lib/catalog/operator.ts); defaults to the shipped MODELS. */
  models?: Model[];
  /** A generation not finished this long after creation fails and is refunded. */
  deadlineMs?: number;
  /** Adds mutations (e.g. webhook deliveries) to the commit that makes a generation terminal. */
  onTerminal?: (atomic: Deno.AtomicOperation, generation: GenerationRecord) => void;
  log?: BackgroundLog;
  /** !config.production: user-given URLs (image_url) may reach local addresses. Default false. */
  allowPrivateUrls?: boolean;
  /** Fetches an image_url for the submit worker; defaults to fetchInputImage (SSRF-guarded). */
  fetchImage?: FetchImage;
  /** How long a claim on a submit or download holds unless renewed (config WORKER_LEASE_MS). */
  leaseMs?: number;
  /** Runs fn every ms until the returned stop is called; tests renew leases by hand. */
  every?: (ms: number, fn: () => Promise<unknown>) => () => void;
  /** Jitter for retry backoff; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_DEADLINE_MS = 60 * 60_000;

export function logOf(deps: GenerationDeps): (message: string, err?: unknown) => void {
  return deps.log ?? ((m, e) => console.error(m, e ?? ""));
}
